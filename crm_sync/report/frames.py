"""The report's input: per-run snapshots as polars frames, whatever produced them.

Every metric of the segment report (domain-model §3) is a pure function of these frames, so the
same code serves the state store (runs of a real sync), evaluations of a data file at several
``as_of`` dates (no CRM needed) and the synthetic benchmark. Keeping them long-format (one row per
run, record, set and value) is what makes transitions and drift a join rather than a loop.

Frames and their columns (``run`` is an ordinal; runs are ordered by it):

* ``runs``: run, as_of (date), computed_at (datetime), fingerprint (model version);
* ``values``: run, entity, id, set, value — single-valued sets one row per record (value null
  when the record got none); multi-valued (tag) sets one row per record *and* tag, plus nothing
  for a record without tags (record counts come from ``facts``);
* ``facts``: run, entity, id, owner, revenue, potential, share_of_wallet, price_index (numbers
  may be null: unknown stays unknown) — one row per record in scope of the run;
* ``fields``: run, entity, id, owner, field, known — one row per record and *required* field;
* ``rules``: run, set, rule, raw, kept, unknown, records — per-rule counts (lint's RuleStats);
* ``pairs``: run, set, a, b, both, either — raw (before priority) co-matches of two rules;
* ``multi``: run, set, multi, records — records matching two or more rules before priority;
* ``sources``: run, source, updated_at — the newest change seen per input source;
* ``crm``: entity, id, property, computed, crm, pushed — the push reconciliation input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

__all__ = [
    "CRM_SCHEMA",
    "DEFAULT_CONVERSIONS",
    "FACT_SCHEMA",
    "FIELD_SCHEMA",
    "MULTI_SCHEMA",
    "PAIR_SCHEMA",
    "RULE_SCHEMA",
    "RUN_SCHEMA",
    "SOURCE_SCHEMA",
    "VALUE_SCHEMA",
    "Conversion",
    "SetInfo",
    "Snapshots",
    "empty",
]

RUN_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "as_of": pl.Date(),
    "computed_at": pl.Datetime("us", "UTC"),
    "fingerprint": pl.String(),
}
VALUE_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "entity": pl.String(),
    "id": pl.String(),
    "set": pl.String(),
    "value": pl.String(),
}
FACT_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "entity": pl.String(),
    "id": pl.String(),
    "owner": pl.String(),
    "revenue": pl.Float64(),
    "potential": pl.Float64(),
    "share_of_wallet": pl.Float64(),
    "price_index": pl.Float64(),
}
FIELD_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "entity": pl.String(),
    "id": pl.String(),
    "owner": pl.String(),
    "field": pl.String(),
    "known": pl.Boolean(),
}
RULE_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "set": pl.String(),
    "rule": pl.String(),
    "raw": pl.Int64(),
    "kept": pl.Int64(),
    "unknown": pl.Int64(),
    "records": pl.Int64(),
}
PAIR_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "set": pl.String(),
    "a": pl.String(),
    "b": pl.String(),
    "both": pl.Int64(),
    "either": pl.Int64(),
}
MULTI_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "set": pl.String(),
    "multi": pl.Int64(),
    "records": pl.Int64(),
}
SOURCE_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "source": pl.String(),
    "updated_at": pl.Datetime("us", "UTC"),
}
CRM_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "id": pl.String(),
    "property": pl.String(),
    "computed": pl.String(),
    "crm": pl.String(),
    "pushed": pl.String(),
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with ``schema`` (sections without data still have their columns)."""
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class SetInfo:
    """What the report needs to know about one output set of the model.

    ``values`` are the declared values in rule order (catch-all last), so charts and matrices
    keep the admin's order and show empty segments instead of hiding them.
    """

    name: str
    entity: str
    kind: Literal["single", "multi"]
    values: tuple[str, ...]
    catch_all: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Conversion:
    """What counts as a conversion for lift (configurable; two defaults, see :data:`DEFAULTS`).

    A record is *eligible* at run t when its ``set`` value is in ``from_values``; it *converts*
    when its value at the next run t+1 is in ``to_values`` (``None``: any value not in
    ``from_values``). Lift compares segments of the *same entity* at run t. Default for
    contacts: a lifecycle move from lead/prospect to customer (the first invoice, i.e. a won
    deal); default for companies: a relationship move out of ``stranger`` (first business in the
    12-month window).
    """

    entity: str
    set: str
    from_values: tuple[str, ...]
    to_values: tuple[str, ...] | None = None

    def describe(self) -> str:
        """One line for the report: ``lifecycle: lead|prospect → customer (next run)``."""
        target = "|".join(self.to_values) if self.to_values else "anything else"
        return f"{self.set}: {'|'.join(self.from_values)} → {target} (next run)"


DEFAULT_CONVERSIONS: tuple[Conversion, ...] = (
    Conversion("contact", "lifecycle", ("lead", "prospect"), ("customer",)),
    Conversion("company", "relationship", ("stranger",), None),
)


@dataclass
class Snapshots:
    """All frames of a report, plus the sets they describe (see the module docstring)."""

    sets: dict[str, SetInfo]
    runs: pl.DataFrame = field(default_factory=lambda: empty(RUN_SCHEMA))
    values: pl.DataFrame = field(default_factory=lambda: empty(VALUE_SCHEMA))
    facts: pl.DataFrame = field(default_factory=lambda: empty(FACT_SCHEMA))
    fields: pl.DataFrame = field(default_factory=lambda: empty(FIELD_SCHEMA))
    rules: pl.DataFrame = field(default_factory=lambda: empty(RULE_SCHEMA))
    pairs: pl.DataFrame = field(default_factory=lambda: empty(PAIR_SCHEMA))
    multi: pl.DataFrame = field(default_factory=lambda: empty(MULTI_SCHEMA))
    sources: pl.DataFrame = field(default_factory=lambda: empty(SOURCE_SCHEMA))
    crm: pl.DataFrame = field(default_factory=lambda: empty(CRM_SCHEMA))
    relationship_set: str = "relationship"
    thresholds: tuple[float, float] = (0.5, 1.0)
    origin: str = ""

    def run_ids(self) -> list[int]:
        """Runs in order."""
        return sorted(int(r) for r in self.runs["run"].to_list())
