"""The engine's view of "compute": a small Protocol, the real rules engine behind it, and a fake.

The engine needs only: the outputs, a fingerprint (a changed model recomputes everything), the
look-back windows (records whose windows crossed a boundary since the last run are recomputed),
whether evaluation needs the whole population (ABC cut-offs and peer medians are global), and
``compute(dataset, as_of)`` giving one row per record with a value per output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from crm_sync.mapping.load import OutputLike
from crm_sync.model.frames import Dataset

__all__ = ["Computer", "FakeComputer", "Output", "RulesComputer", "Values", "frame_values"]

Value = str | tuple[str, ...] | None
Values = dict[str, dict[str, dict[str, Value]]]  # entity -> id -> output -> value


@dataclass(frozen=True, slots=True)
class Output:
    """A model output (same shape as the rules engine's ``OutputSpec``)."""

    name: str
    entity: str
    kind: str
    values: tuple[str, ...]
    description: str = ""


class Computer(Protocol):
    """What the sync engine needs from the segmentation model."""

    fingerprint: str
    windows: tuple[str, ...]
    full_population: bool

    def outputs(self) -> Sequence[OutputLike]:
        """Every output, as in the mapping cross-check."""
        ...

    def compute(self, dataset: Dataset, as_of: dt.date) -> Values:
        """Values for every record in ``dataset``; deterministic for the same inputs."""
        ...


def frame_values(frames: Mapping[str, pl.DataFrame]) -> Values:
    """Result frames (``id`` + one column per output; lists for tags) to plain values."""
    out: Values = {}
    for entity, frame in frames.items():
        rows: dict[str, dict[str, Value]] = {}
        cols = [c for c in frame.columns if c != "id"]
        for row in frame.iter_rows(named=True):
            rows[row["id"]] = {
                c: tuple(sorted(row[c])) if isinstance(row[c], list) else row[c] for c in cols
            }
        out[entity] = rows
    return out


class RulesComputer:
    """The real engine (:mod:`crm_sync.rules`) behind the :class:`Computer` Protocol."""

    def __init__(self, model_path: Path) -> None:
        from crm_sync.rules.load import load_model  # noqa: PLC0415 - keeps sync importable alone

        self.model: Any = load_model(model_path)
        self._last: tuple[Any, Dataset] | None = None
        self.fingerprint = str(self.model.fingerprint)
        spec = self.model.spec
        windows: set[str] = set()
        for metrics in spec.metrics.values():
            windows.update(m.window for m in metrics.values() if m.window)
        self.windows = tuple(sorted(windows))
        self.full_population = any(
            d.abc is not None or d.peer_median is not None or d.chain is not None
            for derived in spec.derived.values()
            for d in derived.values()
        )

    def outputs(self) -> Sequence[OutputLike]:
        """The model's outputs."""
        return list(self.model.outputs())

    def compute(self, dataset: Dataset, as_of: dt.date) -> Values:
        """Evaluate with the vectorised engine."""
        from crm_sync.rules.engine import evaluate  # noqa: PLC0415

        evaluation = evaluate(self.model, dataset, as_of=as_of)
        self._last = (evaluation, dataset)
        return frame_values({str(k): v for k, v in evaluation.results.items()})

    def snapshot_facts(self, conn: Any, run_id: int, account: str) -> None:
        """Store the last evaluation's numbers per record for the report (revenue, SoW, ...).

        Only records evaluated in this run are covered: with a whole-population model (ABC) that
        is everyone; otherwise the recomputed records, the others keep their earlier facts.
        """
        if self._last is None:
            return
        from crm_sync.report.store_source import save_fact_snapshot  # noqa: PLC0415

        evaluation, dataset = self._last
        save_fact_snapshot(
            conn, run_id, account, evaluation=evaluation, model=self.model, dataset=dataset
        )


class FakeComputer:
    """A deterministic stand-in for unit tests and the benchmark's engine-cost baseline.

    ``tier`` (company): "A" with 3+ activities on the company, "B" with 1-2, else "C".
    ``stage`` (contact): "customer" with an order, "prospect" with any other activity, else "lead".
    ``tags`` (contact): "active" with any activity, "vip" when the company is tier A.
    """

    windows: tuple[str, ...] = ()
    full_population = False

    def __init__(self, version: str = "1") -> None:
        self.fingerprint = hashlib.sha256(f"fake-{version}".encode()).hexdigest()[:16]

    def outputs(self) -> Sequence[OutputLike]:
        """Three outputs covering single values, lifecycle-like stages and tags."""
        return [
            Output("tier", "company", "single", ("A", "B", "C")),
            Output("stage", "contact", "single", ("lead", "prospect", "customer")),
            Output("tags", "contact", "multi", ("active", "vip")),
        ]

    def compute(self, dataset: Dataset, as_of: dt.date) -> Values:
        """Count activities per company and contact with polars; derive the three outputs."""
        acts = dataset.activities.filter(pl.col("occurred_at").dt.date() <= as_of)
        per_company = dict(
            acts.filter(pl.col("company_id").is_not_null()).group_by("company_id").len().iter_rows()
        )
        contact_acts = acts.filter(pl.col("contact_id").is_not_null())
        per_contact = dict(contact_acts.group_by("contact_id").len().iter_rows())
        ordered = set(contact_acts.filter(pl.col("type") == "order")["contact_id"].to_list())
        tiers: dict[str, dict[str, Value]] = {}
        for cid in dataset.companies["id"].to_list():
            n = per_company.get(cid, 0)
            tiers[cid] = {"tier": "A" if n >= 3 else "B" if n >= 1 else "C"}
        contacts: dict[str, dict[str, Value]] = {}
        for pid, company in dataset.contacts.select("id", "company_id").iter_rows():
            n = per_contact.get(pid, 0)
            stage = "customer" if pid in ordered else "prospect" if n else "lead"
            tags = {"active"} if n else set()
            if company in tiers and tiers[company]["tier"] == "A":
                tags.add("vip")
            contacts[pid] = {"stage": stage, "tags": tuple(sorted(tags))}
        return {"company": tiers, "contact": contacts}
