"""One self-contained HTML file from the report dictionary: inline CSS, inline SVG, no scripts.

Nothing in the page refers to anything outside it (no links, fonts, images or scripts), so it
opens offline and can be mailed around; tests render it in headless Chromium with all network
refused. Each chart is followed by a table with the exact numbers, because a chart is for seeing
the shape and a table is for quoting. The page reads only :func:`crm_sync.report.build.build_report`
output, so it shows exactly what ``--json`` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from crm_sync.report import svg

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
margin:0;color:#1b1b1b;background:#fafafa;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:2rem 0 .4rem;border-bottom:2px solid #0072B2}
h3{font-size:1rem;margin:1.2rem 0 .3rem}p.note{color:#555;font-size:.85rem;margin:.2rem 0 .6rem}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:1.35rem}.card span{color:#555;font-size:.8rem}
figure{margin:.4rem 0;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px;overflow-x:auto}
table{border-collapse:collapse;font-size:.8rem;margin:.3rem 0 1rem;background:#fff}
caption{text-align:left;font-weight:600;padding:4px 0;color:#333}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f0f4f8}
td.t,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.late{color:#b00020;font-weight:600}
.panel{flex:1 1 540px;max-width:580px;min-width:0}.panel table{display:block;overflow-x:auto;max-width:100%}
td{white-space:nowrap}.panel figure{padding:4px}
"""

_DEFAULT_REGIONS = {
    "hi_hi": "guru_disciple",
    "hi_lo": "best_friend",
    "lo_hi": "one_night_stand",
    "lo_lo": "acquaintance",
}


def _pct(v: Any) -> str:
    if v is None:
        return "–"
    return f"{float(v) + 0.0:.1%}" if abs(float(v)) >= 0.0005 else "0.0%"


def _num(v: Any, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{float(v):,.{digits}f}"


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    text = str(value)
    numeric = bool(text) and (text[0].isdigit() or text[0] in "-–−∞")
    return f"<td>{escape(text)}</td>" if numeric else f'<td class="t">{escape(text)}</td>'


def _figure(chart: str) -> str:
    return f"<figure>{chart}</figure>"


def _run_labels(report: dict[str, Any]) -> dict[int, str]:
    return {int(r["run"]): str(r["as_of"]) for r in report["runs"]}


def _sizes(report: dict[str, Any]) -> str:
    labels = _run_labels(report)
    runs = sorted(labels)
    cur = report["current_run"]
    out = ['<h2 id="sizes">Segment sizes over time</h2>']
    out.append(
        '<p class="note">Records per value at each run (tag sets: prevalence at the latest run); '
        "revenue and potential are sums over the companies in the segment (12-month revenue, "
        "annual potential). Growth = n(t)/n(t−1) − 1.</p>"
    )
    panels = []
    for name, info in report["sets"].items():
        rows = [r for r in report["sizes"] if r["set"] == name]
        values = [v for v in info["values"] if any(r["value"] == v for r in rows)]
        values += sorted({r["value"] for r in rows} - set(values))
        title = f"{info['label'] or name}: segment sizes over {len(runs)} runs"
        if info["kind"] == "multi":
            latest = sorted((r for r in rows if r["run"] == cur), key=lambda r: -r["n"])
            chart = svg.bars(
                [(r["value"], r["share"] or 0.0) for r in latest],
                title=title,
                desc=f"Tag prevalence at run {cur} (a record may have several tags)",
                width=540,
            )
        else:
            series = []
            for v in values:
                by_run = {r["run"]: r["n"] for r in rows if r["value"] == v}
                series.append((v, [float(by_run.get(run, 0)) for run in runs]))
            chart = svg.stacked_area(
                [labels[r] for r in runs],
                series,
                title=title,
                desc="Stacked record counts per value and run",
            )
        table_rows = [
            (
                r["value"],
                _num(r["n"]),
                _pct(r["share"]),
                _num(r["revenue"], 0),
                _num(r["potential"], 0),
                _pct(r["growth"]),
            )
            for r in rows
            if r["run"] == cur
        ]
        table = _table(
            f"{name} at {labels[cur]}",
            ["value", "n", "share", "revenue", "potential", "growth"],
            table_rows,
        )
        head = f"<h3>{escape(info['label'] or name)} <small>({escape(name)}, {info['entity']})</small></h3>"
        panels.append(f'<div class="panel">{head}{_figure(chart)}{table}</div>')
    out.append(f'<div class="grid">{"".join(panels)}</div>')
    return "".join(out)


def _transitions(report: dict[str, Any]) -> str:
    out = ['<h2 id="transitions">Transitions between runs</h2>']
    out.append(
        '<p class="note">P<sub>ij</sub> = n<sub>ij</sub>/n<sub>i·</sub> over records present in both runs. Stability = Σn<sub>ii</sub>/N; dwell time 1/(1−P<sub>ii</sub>) runs; flapping = share of the last run\'s records with ≥ 2 changes in the last k transitions; bounce = an A→B→A return.</p>'
    )
    panels = []
    for t in report["transitions"]:
        if "matrix" not in t:
            continue
        seen = {m["from"] for m in t["matrix"]} | {m["to"] for m in t["matrix"]}
        labels = [v for v in t["values"] if v in seen] + sorted(seen - set(t["values"]))
        cells = {(m["from"], m["to"]): (int(m["n"]), float(m["p"])) for m in t["matrix"]}
        title = f"{t['set']}: transitions run {t['from_run']} → {t['to_run']}"
        desc = f"Heatmap of {t['records']} records; stability {_pct(t['stability'])}"
        chart = svg.heatmap(labels, cells, title=title, desc=desc)
        flap = t["flapping"]
        facts = (
            f"stability {_pct(t['stability'])} of {_num(t['records'])} records; "
            f"flapping (k = {flap['k']}) {_num(flap['flapping'])} ({_pct(flap['flapping_share'])}); "
            f"bounce A→B→A {_num(flap['bounce'])} ({_pct(flap['bounce_share'])})"
        )
        cross = [
            (
                row,
                *(
                    f"{cells[(row, col)][0]:,} ({cells[(row, col)][1]:.0%})"
                    if (row, col) in cells
                    else "0"
                    for col in labels
                ),
                _num(t["dwell_runs"].get(row), 1) if t["dwell_runs"].get(row) is not None else "∞",
            )
            for row in labels
        ]
        table = _table(
            f"{t['set']}: n (P) from row to column, run {t['from_run']} → {t['to_run']}",
            ["from \\ to", *labels, "dwell (runs)"],
            cross,
        )
        head = f'<h3>{escape(t["set"])}</h3><p class="note">{escape(facts)}</p>'
        panels.append(f'<div class="panel">{head}{_figure(chart)}{table}</div>')
    out.append(f'<div class="grid">{"".join(panels)}</div>')
    return "".join(out)


def _regions(rel: dict[str, Any], categories: Sequence[str]) -> dict[str, str]:
    """Quadrant labels: the default categories when the set has them, else the majority."""
    if set(_DEFAULT_REGIONS.values()) <= set(categories):
        return dict(_DEFAULT_REGIONS)
    tx, ty = rel["thresholds"]["share_of_wallet"], rel["thresholds"]["price_index"]
    votes: dict[str, Counter[str]] = {k: Counter() for k in _DEFAULT_REGIONS}
    for x, y, v in rel["points"]:
        votes[("hi" if x >= tx else "lo") + "_" + ("hi" if y >= ty else "lo")][str(v)] += 1
    return {k: (c.most_common(1)[0][0] if c else _DEFAULT_REGIONS[k]) for k, c in votes.items()}


def _relationship(report: dict[str, Any]) -> str:
    rel = report["relationship_map"]
    cats = report["sets"].get(rel["set"], {}).get("values", [])
    out = ['<h2 id="relationship">Relationship map</h2>']
    out.append(
        f'<p class="note">Share of wallet × price index per company at run {rel["run"]}, regions at the model\'s thresholds '
        f"(share of wallet {rel['thresholds']['share_of_wallet']:g}, price index {rel['thresholds']['price_index']:g}); after Avery, Fournier &amp; Wittenbraker (HBR 2014). "
        f"Showing {rel['sampled']:,} of {rel['plotted_of']:,} companies with both values ({escape(rel['sample_rule'])}); "
        f"{rel['unknown_coordinates']:,} companies have an unknown share of wallet or price index and are not plotted. Price index is clipped to 0.5–1.5.</p>"
    )
    points = [(float(x), float(y), str(v)) for x, y, v in rel["points"]]
    chart = svg.scatter_regions(
        points,
        (rel["thresholds"]["share_of_wallet"], rel["thresholds"]["price_index"]),
        _regions(rel, cats),
        list(cats),
        title=f"Relationship map: {rel['sampled']} of {rel['plotted_of']} companies",
        desc="Scatter of share of wallet against price index, coloured by relationship category",
    )
    total = max(1, rel["companies"])
    rows = [(c, _num(rel["counts"].get(c, 0)), _pct(rel["counts"].get(c, 0) / total)) for c in cats]
    out.append(
        f'<div class="grid">{_figure(chart)}{_table("companies per category (all, not only plotted)", ["category", "n", "share"], rows)}</div>'
    )
    return "".join(out)


def _completeness(report: dict[str, Any]) -> str:
    labels = _run_labels(report)
    cur, first = report["current_run"], min(labels)
    fields = report["completeness"]["fields"]
    out = ['<h2 id="completeness">Completeness of required fields</h2>']
    out.append(
        '<p class="note">known(field)/N per required field (and purchase potential), latest run; the table shows the trend from the first run and the owners with the lowest completeness.</p>'
    )
    latest = [f for f in fields if f["run"] == cur]
    items = [(f"{f['entity']}.{f['field']}", float(f["completeness"])) for f in latest]
    out.append(
        _figure(
            svg.bars(
                items,
                title="Completeness per required field",
                desc=f"Share of records with the field known at run {cur}",
            )
        )
    )
    before = {(f["entity"], f["field"]): f["completeness"] for f in fields if f["run"] == first}
    rows = [
        (
            f"{f['entity']}.{f['field']}",
            _num(f["known"]),
            _num(f["records"]),
            _pct(before.get((f["entity"], f["field"]))),
            _pct(f["completeness"]),
        )
        for f in latest
    ]
    out.append(
        _table(
            "completeness per field",
            ["field", "known", "records", f"run {first}", f"run {cur}"],
            rows,
        )
    )
    owners = sorted(
        (o for o in report["completeness"]["owners"] if o["run"] == cur),
        key=lambda o: (o["completeness"], o["owner"]),
    )
    rows = [
        (
            o["owner"],
            f"{o['entity']}.{o['field']}",
            _num(o["known"]),
            _num(o["records"]),
            _pct(o["completeness"]),
        )
        for o in owners[:30]
    ]
    out.append(
        _table(
            f"completeness per owner, run {cur} (lowest 30)",
            ["owner", "field", "known", "records", "completeness"],
            rows,
        )
    )
    return "".join(out)


def _lift(report: dict[str, Any]) -> str:
    out = ['<h2 id="lift">Lift of conversion per segment</h2>']
    out.append(
        '<p class="note">lift = (conv<sub>s</sub>/n<sub>s</sub>)/(conv/N) over records eligible at a run and seen at the next run, pooled over consecutive runs; whiskers: 95 % Wilson interval of the segment rate divided by the overall rate. The dashed line is lift 1.</p>'
    )
    for entry in report["lift"]:
        out.append(f"<h3>{escape(entry['conversion'])}</h3>")
        out.append(
            f'<p class="note">{entry["eligible"]:,} eligible, {entry["converted"]:,} converted, overall rate {_pct(entry["rate"])}.</p>'
        )
        segs = entry["segments"]
        if not segs or entry["rate"] in (None, 0):
            out.append('<p class="note">No conversions observed: lift is undefined.</p>')
            continue
        items = [(f"{s['set']}={s['value']}", s["lift"], s["lift_lo"], s["lift_hi"]) for s in segs]
        out.append(
            _figure(
                svg.lift_chart(
                    items,
                    title=f"Lift per segment: {entry['conversion']}",
                    desc="Lift with 95 % Wilson interval per segment",
                )
            )
        )
        rows = [
            (
                s["set"],
                s["value"],
                _num(s["n"]),
                _num(s["converted"]),
                _pct(s["rate"]),
                f"{_pct(s['rate_lo'])} – {_pct(s['rate_hi'])}",
                _num(s["lift"]),
                f"{_num(s['lift_lo'])} – {_num(s['lift_hi'])}",
            )
            for s in segs
        ]
        out.append(
            _table(
                "lift per segment",
                ["set", "value", "n", "converted", "rate", "rate 95 % CI", "lift", "lift 95 % CI"],
                rows,
            )
        )
    return "".join(out)


def _quality(report: dict[str, Any]) -> str:
    cur = report["current_run"]
    out = ['<h2 id="quality">Coverage, overlap and rules</h2>']
    cov = [c for c in report["coverage"] if c["run"] == cur]
    out.append(
        _figure(
            svg.bars(
                [(c["set"], float(c["catch_all_share"])) for c in cov],
                title="Catch-all share per set",
                desc=f"Share of records in the catch-all at run {cur}",
            )
        )
    )
    out.append(
        _table(
            "coverage = 1 − n(catch-all)/N",
            ["set", "records", "catch-all", "catch-all share", "coverage"],
            [
                (
                    c["set"],
                    _num(c["records"]),
                    _num(c["catch_all"]),
                    _pct(c["catch_all_share"]),
                    _pct(c["coverage"]),
                )
                for c in cov
            ],
        )
    )
    multi = [m for m in report["overlap"]["multi_match"] if m["run"] == cur]
    out.append(
        _table(
            "records matching ≥ 2 rules before priority",
            ["set", "records", "multi-match", "share"],
            [
                (m["set"], _num(m["records"]), _num(m["multi"]), _pct(m["overlap_share"]))
                for m in multi
            ],
        )
    )
    pairs = [p for p in report["overlap"]["pairs"] if p["both"]]
    out.append(
        _table(
            "overlapping rule pairs (raw matches, Jaccard = |A∩B|/|A∪B|)",
            ["set", "rule A", "rule B", "both", "either", "Jaccard"],
            [
                (
                    p["set"],
                    p["a"],
                    p["b"],
                    _num(p["both"]),
                    _num(p["either"]),
                    _num(p["jaccard"], 3),
                )
                for p in pairs
            ],
        )
    )
    rules = [r for r in report["rules"] if r["run"] == cur]
    out.append(
        _table(
            "rules: evaluability = 1 − unknown/N; dead = never true; shadowed = true but never kept",
            ["set", "rule", "raw", "kept", "unknown", "evaluability", "status"],
            [
                (
                    r["set"],
                    r["rule"],
                    _num(r["raw"]),
                    _num(r["kept"]),
                    _num(r["unknown"]),
                    _pct(r["evaluability"]),
                    r["status"],
                )
                for r in rules
            ],
        )
    )
    return "".join(out)


def _drift(report: dict[str, Any]) -> str:
    out = ['<h2 id="drift">Distribution drift (PSI)</h2>']
    out.append(
        '<p class="note">PSI = Σ(p−q)·ln(p/q), shares floored at ε = 0.0001, current run vs. reference run; 0.10 watch, 0.25 act (folklore thresholds that depend on the number of bins).</p>'
    )
    items = [(d["set"], float(d["psi"])) for d in report["drift"]]
    vmax = max([0.3, *(v for _, v in items)])
    out.append(
        _figure(
            svg.bars(
                items,
                title="PSI per set",
                desc="Population stability index per set",
                fmt="{:.3f}",
                vmax=vmax,
                ref=0.25,
            )
        )
    )
    out.append(
        _table(
            "PSI current vs. reference",
            ["set", "reference run", "current run", "PSI", "level"],
            [
                (d["set"], d["reference_run"], d["current_run"], _num(d["psi"], 4), d["level"])
                for d in report["drift"]
            ],
        )
    )
    return "".join(out)


def _operations(report: dict[str, Any]) -> str:
    fr, rec = report["freshness"], report["reconciliation"]
    out = ['<h2 id="operations">Freshness and push reconciliation</h2>']
    out.append(
        f'<p class="note">Latest run {fr["run"]} computed at {escape(str(fr["computed_at"]))}; age {_num(fr["age_hours"], 1)} h. Source lag = computed_at − newest change of the source; late when above {_num(fr.get("sla_hours"), 0)} h.</p>'
    )
    out.append(
        _table(
            "freshness per source",
            ["source", "newest change", "lag (h)", "late"],
            [
                (
                    s["source"],
                    s["updated_at"],
                    _num(s["lag_hours"], 1),
                    "LATE" if s["late"] else "ok",
                )
                for s in fr["sources"]
            ],
        )
    )
    if rec["values"]:
        out.append(
            f'<p class="note">{_pct(rec["equal_share"])} of {rec["values"]:,} CRM values equal the computed ones; {rec["overrides"]:,} manual overrides.</p>'
        )
        out.append(
            _table(
                "reconciliation per property",
                ["entity", "property", "values", "equal", "equal share", "overrides"],
                [
                    (
                        p["entity"],
                        p["property"],
                        _num(p["values"]),
                        _num(p["equal"]),
                        _pct(p["equal_share"]),
                        _num(p["overrides"]),
                    )
                    for p in rec["properties"]
                ],
            )
        )
    else:
        out.append(
            '<p class="note">No CRM values in this report (evaluated from a data file): reconciliation needs a store that pushed to a CRM.</p>'
        )
    return "".join(out)


def _cards(report: dict[str, Any]) -> str:
    cur = report["current_run"]
    rel = report["relationship_map"]["set"]
    cov = next((c for c in report["coverage"] if c["run"] == cur and c["set"] == rel), None)
    tr: dict[str, Any] = next((t for t in report["transitions"] if t["set"] == rel), {})
    dr = next((d for d in report["drift"] if d["set"] == rel), None)
    cards = [
        ("runs", str(len(report["runs"]))),
        (f"{rel} coverage", _pct(cov["coverage"]) if cov else "–"),
        (f"{rel} stability", _pct(tr.get("stability"))),
        (f"{rel} PSI", _num(dr["psi"], 3) if dr else "–"),
        ("segments age (h)", _num(report["freshness"]["age_hours"], 1)),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in cards
        )
        + "</div>"
    )


def render_html(report: dict[str, Any], *, title: str = "crm_sync segment report") -> str:
    """The whole page as one string (UTF-8, no external references)."""
    runs = report["runs"]
    span = f"{runs[0]['as_of']} – {runs[-1]['as_of']}" if runs else ""
    nav = " · ".join(
        f"{escape(t)}"
        for t in (
            "relationship map",
            "sizes",
            "transitions",
            "completeness",
            "lift",
            "coverage & rules",
            "drift",
            "operations",
        )
    )
    body = "".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="note">{len(runs)} runs, {escape(span)}; source: {escape(str(report.get("origin", "")))}. Sections: {nav}.</p>',
            _cards(report),
            _relationship(report),
            _sizes(report),
            _transitions(report),
            _completeness(report),
            _lift(report),
            _quality(report),
            _drift(report),
            _operations(report),
        ]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
