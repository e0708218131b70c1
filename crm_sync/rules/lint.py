"""Lint: is the model doing its job on this data? (domain-model.md §3 and §5.7).

A model can be valid and still useless: a rule hidden behind an earlier one, a tag every record
carries, a catch-all holding most records, rules that are mostly *unknown* because a field is
empty. Lint evaluates the model over a dataset and reports, per set: records matching several
rules before priority (an *error* in a ``unique`` set, with sample ids), shadowed rules (raw
matches but never kept), rules that never match, the catch-all's share, tags at 0 % / 100 %,
unknown counts per rule, lifecycles that did not settle, and field completeness. Static checks
(no data needed) cover transitions marked ``backward`` that move forward and unreachable stages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from crm_sync.errors import Position
from crm_sync.model.frames import Dataset
from crm_sync.rules.compiled import SegmentationModel
from crm_sync.rules.engine import evaluate
from crm_sync.rules.results import Evaluation

__all__ = ["Finding", "LintReport", "lint", "lint_evaluation", "static_findings"]

Severity = Literal["error", "warning", "info"]
_CATCH_ALL_WARN = 0.5


@dataclass(frozen=True)
class Finding:
    """One lint result, pointing at the set or rule in the model file."""

    severity: Severity
    set: str
    rule: str | None
    message: str
    position: str
    samples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.set}.{self.rule}" if self.rule else self.set
        tail = f" (e.g. {', '.join(self.samples)})" if self.samples else ""
        return f"{self.position}: {self.severity}: [{where}] {self.message}{tail}"


@dataclass
class LintReport:
    """Every finding, errors first."""

    findings: list[Finding] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        """Findings of severity error."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        counts = {
            s: sum(1 for f in self.findings if f.severity == s)
            for s in ("error", "warning", "info")
        }
        return {
            "ok": self.ok,
            "counts": counts,
            "records": self.records,
            "findings": [{**asdict(f), "samples": list(f.samples)} for f in self.findings],
        }


def _pct(n: int, total: int) -> str:
    return f"{n} of {total} ({100 * n / total:.0f} %)" if total else f"{n}"


def static_findings(model: SegmentationModel) -> list[Finding]:
    """Checks that need no data."""
    out: list[Finding] = []
    for lc in model.lifecycles.values():
        reachable = {lc.initial} | {t.to for t in lc.transitions}
        for stage in lc.stages:
            if stage not in reachable:
                out.append(
                    Finding(
                        "info",
                        lc.name,
                        None,
                        f"stage '{stage}' is never entered by a transition (only via {lc.start_from or 'nothing'})",
                        str(lc.position),
                    )
                )
        for t in lc.transitions:
            if t.backward and all(
                lc.stages.index(t.to) > lc.stages.index(f) for f in t.from_stages
            ):
                out.append(
                    Finding(
                        "warning",
                        lc.name,
                        t.id,
                        "marked backward: true but moves forward; remove the flag",
                        str(t.rule.position),
                    )
                )
    return out


def lint_evaluation(
    model: SegmentationModel, ev: Evaluation, dataset: Dataset | None = None
) -> LintReport:
    """Findings from an existing evaluation (plus the static checks)."""
    report = LintReport(records={e: f.height for e, f in ev.results.items()})
    findings = report.findings
    for s in model.segments.values():
        stats = {r.rule: r for r in ev.stats_for(s.name)}
        set_stats = ev.set_stats[s.name]
        total = set_stats.records
        if set_stats.multi_match:
            if s.hit_policy == "unique":
                findings.append(
                    Finding(
                        "error",
                        s.name,
                        None,
                        f"{_pct(set_stats.multi_match, total)} records match several rules of a unique set; make the rules exclusive or use hit_policy first",
                        str(s.position),
                        set_stats.multi_match_ids,
                    )
                )
            else:
                findings.append(
                    Finding(
                        "info",
                        s.name,
                        None,
                        f"{_pct(set_stats.multi_match, total)} records match several rules before priority (the earliest wins)",
                        str(s.position),
                        set_stats.multi_match_ids,
                    )
                )
        for r in s.rules:
            st = stats[r.id]
            pos = str(r.position)
            if st.raw == 0:
                findings.append(Finding("warning", s.name, r.id, "never matches on this data", pos))
            elif st.kept == 0:
                findings.append(
                    Finding(
                        "warning",
                        s.name,
                        r.id,
                        f"shadowed: matches {st.raw} records but earlier rules take them all",
                        pos,
                    )
                )
            if st.unknown:
                findings.append(
                    Finding(
                        "info",
                        s.name,
                        r.id,
                        f"unknown for {_pct(st.unknown, total)} records (missing inputs); those records do not match",
                        pos,
                    )
                )
        if s.otherwise is not None:
            share = set_stats.no_match / total if total else 0.0
            severity: Severity = "warning" if share > _CATCH_ALL_WARN else "info"
            findings.append(
                Finding(
                    severity,
                    s.name,
                    s.otherwise,
                    f"catch-all gets {_pct(set_stats.no_match, total)} records",
                    str(s.position),
                )
            )
        elif set_stats.no_match:
            findings.append(
                Finding(
                    "info",
                    s.name,
                    None,
                    f"{_pct(set_stats.no_match, total)} records match no rule and get no value",
                    str(s.position),
                )
            )
    for t in model.tags.values():
        total = ev.set_stats[t.name].records
        for r, st in zip(t.rules, ev.stats_for(t.name), strict=True):
            pos = str(r.position)
            if total and st.raw == 0:
                findings.append(
                    Finding("warning", t.name, r.id, "tag at 0 %: no record carries it", pos)
                )
            elif total and st.raw == total:
                findings.append(
                    Finding("warning", t.name, r.id, "tag at 100 %: every record carries it", pos)
                )
            if st.unknown:
                findings.append(
                    Finding(
                        "info",
                        t.name,
                        r.id,
                        f"unknown for {_pct(st.unknown, total)} records (missing inputs)",
                        pos,
                    )
                )
    for lc in model.lifecycles.values():
        set_stats = ev.set_stats[lc.name]
        total = set_stats.records
        for tr, st in zip(lc.transitions, ev.stats_for(lc.name), strict=True):
            pos = str(tr.rule.position)
            if st.kept == 0:
                findings.append(Finding("info", lc.name, tr.id, "never fired on this data", pos))
            if st.unknown:
                findings.append(
                    Finding(
                        "info",
                        lc.name,
                        tr.id,
                        f"guard unknown for {_pct(st.unknown, total)} records",
                        pos,
                    )
                )
        if set_stats.unsettled:
            findings.append(
                Finding(
                    "warning",
                    lc.name,
                    None,
                    f"{set_stats.unsettled} records still change after max_steps={lc.max_steps}; transitions may loop",
                    str(lc.position),
                    set_stats.unsettled_ids,
                )
            )
    if dataset is not None:
        findings.extend(_completeness(model, dataset))
    findings.extend(static_findings(model))
    order = {"error": 0, "warning": 1, "info": 2}
    report.findings.sort(key=lambda f: order[f.severity])
    return report


def _completeness(model: SegmentationModel, dataset: Dataset) -> list[Finding]:
    out: list[Finding] = []
    for entity, plan in model.plans.items():
        frame = dataset.companies if entity == "company" else dataset.contacts
        for name, spec in plan.fields.items():
            pos = str(model.doc.position(("fields", entity, name), key=True))
            if name not in frame.columns:
                out.append(
                    Finding(
                        "warning",
                        f"fields.{entity}",
                        name,
                        "not present in the data: null for every record",
                        pos,
                    )
                )
                continue
            missing = frame[name].null_count()
            if spec.required and missing:
                out.append(
                    Finding(
                        "warning",
                        f"fields.{entity}",
                        name,
                        f"required field empty on {_pct(missing, frame.height)} records",
                        pos,
                    )
                )
    return out


def lint(model: SegmentationModel, dataset: Dataset, *, as_of: dt.date) -> LintReport:
    """Evaluate ``dataset`` at ``as_of`` and report every finding."""
    return lint_evaluation(model, evaluate(model, dataset, as_of=as_of), dataset)


_ = Position
