"""Inline SVG charts drawn in Python: no JavaScript, no fonts or images from the network.

The report must open from a file on a laptop without network (and in an e-mail attachment), so
every chart is plain SVG markup written here. Each chart carries ``role="img"``, a ``<title>`` and a
``<desc>`` for screen readers, and the exact numbers are always repeated in a table beneath it.
Colours come from one categorical palette (Okabe–Ito, readable with colour-vision deficiencies)
and are assigned by value order, so a segment keeps its colour in every chart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from html import escape

__all__ = ["PALETTE", "bars", "colour", "heatmap", "lift_chart", "scatter_regions", "stacked_area"]

PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#7F3C8D",
    "#11A579",
    "#3969AC",
)
_ids = itertools.count(1)


def colour(index: int) -> str:
    """Palette colour of the ``index``-th value (cycles)."""
    return PALETTE[index % len(PALETTE)]


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    uid = f"c{next(_ids)}"
    head = (
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{uid}t {uid}d">'
        f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def _text(
    x: float, y: float, s: str, *, anchor: str = "start", size: int = 11, extra: str = ""
) -> str:
    return (
        f'<text x="{_fmt(x)}" y="{_fmt(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(s)}</text>"
    )


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def legend(labels: Sequence[str], x: float, y: float, colours: Sequence[str]) -> str:
    """A vertical legend of coloured squares."""
    parts = []
    for i, (lab, col) in enumerate(zip(labels, colours, strict=True)):
        yy = y + i * 16
        parts.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(yy - 9)}" width="10" height="10" fill="{col}"/>'
        )
        parts.append(_text(x + 14, yy, lab))
    return "".join(parts)


def stacked_area(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    desc: str,
    y_label: str = "records",
    width: int = 560,
    height: int = 260,
) -> str:
    """Stacked areas of ``series`` (name, one value per x) over the runs ``x_labels``."""
    left, right, top, bottom = 56, 170, 12, 44
    pw, ph = width - left - right, height - top - bottom
    n = len(x_labels)
    totals = [sum(s[1][i] for s in series) for i in range(n)]
    ymax = _nice_max(max(totals, default=0))

    def px(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def py(v: float) -> float:
        return top + ph - ph * v / ymax

    head, tail = _open(width, height, title, desc)
    parts = [head]
    for t in range(6):
        v = ymax * t / 5
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_fmt(py(v))}" y2="{_fmt(py(v))}" stroke="#ddd"/>'
        )
        parts.append(_text(left - 4, py(v) + 4, f"{v:,.0f}", anchor="end"))
    base = [0.0] * n
    for k, (_, vals) in enumerate(series):
        upper = [base[i] + vals[i] for i in range(n)]
        if n == 1:
            pts: list[tuple[float, float]] = [
                (left, py(upper[0])),
                (left + pw, py(upper[0])),
                (left + pw, py(base[0])),
                (left, py(base[0])),
            ]
        else:
            pts = [(px(i), py(upper[i])) for i in range(n)] + [
                (px(i), py(base[i])) for i in reversed(range(n))
            ]
        path = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in pts)
        parts.append(
            f'<polygon points="{path}" fill="{colour(k)}" fill-opacity="0.85" stroke="#fff" stroke-width="0.5"/>'
        )
        base = upper
    step = max(1, math.ceil(n / 5))
    for i in sorted({*range(0, n, step), n - 1}):
        parts.append(_text(px(i), top + ph + 16, x_labels[i], anchor="middle", size=10))
    parts.append(_text(left + pw / 2, height - 6, "run (as_of)", anchor="middle"))
    parts.append(
        _text(
            14,
            top + ph / 2,
            y_label,
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_fmt(top + ph / 2)})"',
        )
    )
    names = [s[0] for s in series]
    parts.append(legend(names, left + pw + 16, top + 10, [colour(i) for i in range(len(names))]))
    parts.append(tail)
    return "".join(parts)


def heatmap(
    labels: Sequence[str],
    cells: dict[tuple[str, str], tuple[int, float]],
    *,
    title: str,
    desc: str,
    cell: int = 46,
) -> str:
    """Transition heatmap: rows = from, columns = to; shade = P_ij, text = n_ij."""
    left, top = 170, 120
    k = len(labels)
    width, height = left + k * cell + 90, top + k * cell + 30
    head, tail = _open(width, height, title, desc)
    parts = [head]
    for j, lab in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(_text(x, top - 6, lab, extra=f' transform="rotate(-45 {_fmt(x)} {top - 6})"'))
    for i, row in enumerate(labels):
        y = top + i * cell
        parts.append(_text(left - 6, y + cell / 2 + 4, row, anchor="end"))
        for j, col in enumerate(labels):
            n, p = cells.get((row, col), (0, 0.0))
            shade = f"rgba(0,114,178,{0.06 + 0.94 * p:.3f})" if n else "#f4f4f4"
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{shade}">'
                f"<title>{escape(row)} → {escape(col)}: {n} ({p:.1%})</title></rect>"
            )
            if n:
                ink = "#fff" if p > 0.5 else "#111"
                parts.append(
                    _text(
                        left + j * cell + cell / 2 - 1,
                        y + cell / 2 + 4,
                        f"{n:,}",
                        anchor="middle",
                        size=10,
                        extra=f' fill="{ink}"',
                    )
                )
    parts.append(_text(left + k * cell / 2, height - 8, "to (later run) →", anchor="middle"))
    parts.append(_text(8, 14, "rows: from (earlier run)"))
    parts.append(tail)
    return "".join(parts)


def scatter_regions(
    points: Sequence[tuple[float, float, str]],
    thresholds: tuple[float, float],
    regions: dict[str, str],
    categories: Sequence[str],
    *,
    title: str,
    desc: str,
    y_range: tuple[float, float] = (0.5, 1.5),
    width: int = 640,
    height: int = 460,
) -> str:
    """Share of wallet (x, 0–1) × price index (y) with the four category regions shaded.

    ``regions`` maps ``"hi_hi"``, ``"hi_lo"``, ``"lo_hi"``, ``"lo_lo"`` (x side, y side) to a
    label. Points outside ``y_range`` are drawn on its edge (clipped) and counted in ``desc``.
    """
    left, right, top, bottom = 56, 170, 14, 46
    pw, ph = width - left - right, height - top - bottom
    y0, y1 = y_range
    tx, ty = thresholds

    def px(v: float) -> float:
        return left + pw * min(max(v, 0.0), 1.0)

    def py(v: float) -> float:
        return top + ph - ph * (min(max(v, y0), y1) - y0) / (y1 - y0)

    head, tail = _open(width, height, title, desc)
    parts = [head]
    shades = {"hi_hi": "#E3F2E1", "hi_lo": "#E2ECF7", "lo_hi": "#FBEEDB", "lo_lo": "#F1F1F1"}
    boxes = {
        "lo_lo": (px(0), py(ty), px(tx), py(y0)),
        "hi_lo": (px(tx), py(ty), px(1), py(y0)),
        "lo_hi": (px(0), py(y1), px(tx), py(ty)),
        "hi_hi": (px(tx), py(y1), px(1), py(ty)),
    }
    for key, (xa, ya, xb, yb) in boxes.items():
        parts.append(
            f'<rect x="{_fmt(xa)}" y="{_fmt(ya)}" width="{_fmt(xb - xa)}" height="{_fmt(yb - ya)}" fill="{shades[key]}"/>'
        )
        parts.append(
            _text(
                (xa + xb) / 2,
                ya + 16 if key.endswith("_hi") else yb - 8,
                regions.get(key, ""),
                anchor="middle",
                size=12,
                extra=' font-weight="bold" fill="#555"',
            )
        )
    parts.append(
        f'<line x1="{_fmt(px(tx))}" x2="{_fmt(px(tx))}" y1="{top}" y2="{top + ph}" stroke="#444" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{_fmt(py(ty))}" y2="{_fmt(py(ty))}" stroke="#444" stroke-dasharray="4 3"/>'
    )
    index = {c: i for i, c in enumerate(categories)}
    for x, y, cat in points:
        parts.append(
            f'<circle cx="{_fmt(px(x))}" cy="{_fmt(py(y))}" r="2.6" fill="{colour(index.get(cat, len(categories)))}" fill-opacity="0.8"/>'
        )
    for t in range(6):
        v = t / 5
        parts.append(_text(px(v), top + ph + 14, f"{v:.0%}", anchor="middle", size=10))
        w = y0 + (y1 - y0) * t / 5
        parts.append(_text(left - 4, py(w) + 4, f"{w:.2f}", anchor="end", size=10))
    parts.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>'
    )
    parts.append(
        _text(left + pw / 2, height - 8, f"share of wallet (threshold {tx:g})", anchor="middle")
    )
    parts.append(
        _text(
            14,
            top + ph / 2,
            f"price index (threshold {ty:g})",
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_fmt(top + ph / 2)})"',
        )
    )
    parts.append(
        legend(categories, left + pw + 14, top + 10, [colour(i) for i in range(len(categories))])
    )
    parts.append(tail)
    return "".join(parts)


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str,
    width: int = 640,
    fmt: str = "{:.0%}",
    vmax: float = 1.0,
    ref: float | None = None,
) -> str:
    """Horizontal bars (label, value in 0..vmax), e.g. completeness or PSI."""
    left, right, row = 200, 60, 22
    height = 20 + row * len(items) + 10
    pw = width - left - right
    head, tail = _open(width, height, title, desc)
    parts = [head]
    for i, (lab, v) in enumerate(items):
        y = 14 + i * row
        w = pw * max(0.0, min(v, vmax)) / vmax if vmax else 0
        parts.append(_text(left - 6, y + 12, lab, anchor="end"))
        parts.append(f'<rect x="{left}" y="{y}" width="{pw}" height="{row - 6}" fill="#eee"/>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{_fmt(w)}" height="{row - 6}" fill="{colour(0)}"/>'
        )
        parts.append(_text(left + pw + 4, y + 12, fmt.format(v)))
    if ref is not None:
        x = left + pw * ref / vmax
        parts.append(
            f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="8" y2="{height - 6}" stroke="#D55E00" stroke-dasharray="3 3"/>'
        )
    parts.append(tail)
    return "".join(parts)


def lift_chart(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    desc: str,
    width: int = 700,
) -> str:
    """Lift per segment: a dot at the lift, whiskers at the 95 % Wilson bounds, a line at 1."""
    left, right, row = 230, 40, 22
    height = 30 + row * len(items) + 20
    pw = width - left - right
    known = [v for _, a, b, c in items for v in (a, b, c) if v is not None]
    xmax = _nice_max(min(max([2.0, *known]), 5.0))

    def px(v: float) -> float:
        return left + pw * min(v, xmax) / xmax

    head, tail = _open(width, height, title, desc)
    parts = [head]
    for t in range(5):
        v = xmax * t / 4
        parts.append(
            f'<line x1="{_fmt(px(v))}" x2="{_fmt(px(v))}" y1="10" y2="{height - 24}" stroke="#eee"/>'
        )
        parts.append(_text(px(v), height - 10, f"{v:g}", anchor="middle", size=10))
    parts.append(
        f'<line x1="{_fmt(px(1))}" x2="{_fmt(px(1))}" y1="10" y2="{height - 24}" stroke="#D55E00" stroke-dasharray="4 3"/>'
    )
    for i, (lab, val, lo, hi) in enumerate(items):
        y = 22 + i * row
        parts.append(_text(left - 6, y + 4, lab, anchor="end"))
        if lo is not None and hi is not None:
            parts.append(
                f'<line x1="{_fmt(px(lo))}" x2="{_fmt(px(hi))}" y1="{y}" y2="{y}" stroke="#333"/>'
            )
            for e in (lo, hi):
                parts.append(
                    f'<line x1="{_fmt(px(e))}" x2="{_fmt(px(e))}" y1="{y - 5}" y2="{y + 5}" stroke="#333"/>'
                )
        if val is not None:
            parts.append(f'<circle cx="{_fmt(px(val))}" cy="{y}" r="4" fill="{colour(0)}"/>')
    parts.append(tail)
    return "".join(parts)
