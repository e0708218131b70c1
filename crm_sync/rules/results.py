"""What one evaluation produces: per-entity result frames, per-rule statistics, cut-offs.

Both evaluators (vectorised :mod:`crm_sync.rules.engine` and per-record
:mod:`crm_sync.rules.reference`) return this same type, so tests compare them field by field and
the store can keep a run's cut-offs (ABC limits, peer medians) next to its results (DESIGN §4,
determinism: "a run stores the model version and any computed cut-offs").
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.schema import Entity

__all__ = ["Evaluation", "RuleStats", "SetStats", "result_schema"]

SAMPLE_IDS = 5


@dataclass(frozen=True)
class RuleStats:
    """How one rule (or tag, or transition) fared over the evaluated records.

    ``raw``: records where the condition is true, before priority; ``kept``: records that got the
    rule's value (for transitions: times it fired); ``unknown``: records where it was unknown.
    """

    set: str
    rule: str
    raw: int
    kept: int
    unknown: int


@dataclass(frozen=True)
class SetStats:
    """Per set: record count, records matching several rules, records matching none."""

    set: str
    entity: Entity
    kind: str  # segment | tag | lifecycle | abc
    records: int
    multi_match: int = 0
    multi_match_ids: tuple[str, ...] = ()
    no_match: int = 0
    unsettled: int = 0
    unsettled_ids: tuple[str, ...] = ()


@dataclass
class Evaluation:
    """Results of evaluating a model over a dataset at ``as_of``."""

    as_of: dt.date
    ruleset: str
    fingerprint: str
    results: dict[Entity, pl.DataFrame]
    frames: dict[Entity, pl.DataFrame]
    rule_stats: list[RuleStats] = field(default_factory=list)
    set_stats: dict[str, SetStats] = field(default_factory=dict)
    cutoffs: dict[str, Any] = field(default_factory=dict)

    def stats_for(self, set_name: str) -> list[RuleStats]:
        """Rule statistics of one set, in rule order."""
        return [s for s in self.rule_stats if s.set == set_name]

    def value(self, entity: Entity, record_id: str, output: str) -> Any:
        """One output of one record (a string, or a list of tags)."""
        frame = self.results[entity].filter(pl.col("id") == record_id)
        if frame.height == 0:
            msg = f"no {entity} with id {record_id}"
            raise KeyError(msg)
        return frame[output][0]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: value counts per output, rule statistics and cut-offs."""
        outputs: dict[str, Any] = {}
        for entity, frame in self.results.items():
            for name in frame.columns:
                if name == "id":
                    continue
                column = frame[name]
                if column.dtype == pl.List(pl.String):
                    counts = column.explode().drop_nulls().value_counts(sort=True)
                else:
                    counts = column.fill_null("(none)").value_counts(sort=True)
                pairs = sorted(
                    ((str(row[0]), int(row[1])) for row in counts.iter_rows()),
                    key=lambda kv: (-kv[1], kv[0]),
                )
                outputs[name] = {"entity": entity, "records": frame.height, "counts": dict(pairs)}
        return {
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset,
            "fingerprint": self.fingerprint,
            "outputs": outputs,
            "rules": [s.__dict__ for s in self.rule_stats],
            "cutoffs": _jsonable(self.cutoffs),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def result_schema(model: SegmentationModel, entity: Entity) -> dict[str, pl.DataType]:
    """Schema of an entity's result frame: id, then one column per output."""
    schema: dict[str, pl.DataType] = {"id": pl.String()}
    for out in model.outputs():
        if out.entity == entity:
            schema[out.name] = pl.List(pl.String()) if out.kind == "multi" else pl.String()
    return schema
