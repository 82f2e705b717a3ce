"""Charts drawn on the server as inline SVG from the figures of a table (no script, no CDN):
a heat map of shares (roll rates), lines of shares against a count (vintage curves) and
grouped bars of amounts (IFRS 9 stages). Coordinates are computed from ``Decimal`` and ints;
colours are SVG presentation attributes (the content security policy allows no inline
style). Each chart carries its title and an accessible label; its numbers are the table next
to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from loanservicing.amounts import share

__all__ = ["Bars", "Line", "bar_chart", "heat_map", "line_chart"]

_PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0550ae")
_INK, _GRID, _FONT = "#24292f", "#d0d7de", "system-ui, sans-serif"
_ONE = Decimal("0.1")


def _n(value: Decimal | int) -> str:
    """A coordinate with one decimal place."""
    return str(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))


def _text(x: Decimal | int, y: Decimal | int, text: str, anchor: str = "start", size: int = 12,
          fill: str = _INK) -> str:  # fmt: skip
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" font-family="{_FONT}" '
        f'text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" data-chart="{escape(name)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def heat_map(
    name: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    shares: Sequence[Sequence[Decimal | None]],
) -> Markup:
    """One cell per (row, column), shaded by its share (0 to 1) and labelled with it; None
    is an empty cell (the row held nothing)."""
    cell_w, cell_h, left, top = 74, 28, 90, 40
    width, height = left + cell_w * len(columns) + 10, top + cell_h * len(rows) + 10
    body = [_text(left - 8, top - 24, "from \\ to", "end", 11)]
    for j, column in enumerate(columns):
        body.append(_text(left + cell_w * j + cell_w // 2, top - 8, column, "middle", 11))
    for i, row in enumerate(rows):
        y = top + cell_h * i
        body.append(_text(left - 8, y + cell_h // 2 + 4, row, "end", 11))
        for j, value in enumerate(shares[i]):
            x = left + cell_w * j
            opacity = _n(Decimal(0) if value is None else min(max(value, Decimal(0)), Decimal(1)))
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_PALETTE[0]}" fill-opacity="{opacity}" stroke="{_GRID}"/>'
            )
            if value is not None:
                ink = "#ffffff" if value > Decimal("0.55") else _INK
                body.append(
                    _text(x + cell_w // 2, y + cell_h // 2 + 4, share(value), "middle", 11, ink)
                )
    return _svg(name, title, width, height, body)


@dataclass(frozen=True)
class Line:
    """One series: its label, its points (None: no value there) and whether it is dashed."""

    label: str
    points: Sequence[Decimal | None]
    dashed: bool = False
    colour: int = 0


def line_chart(
    name: str, title: str, x_label: str, lines: Sequence[Line], width: int = 640
) -> Markup:
    """Shares (0 to the largest, at least 10 %) against 1, 2, ... (the points' positions)."""
    height, left, right, top, bottom = 280, 56, 170, 16, 40
    count = max((len(line.points) for line in lines), default=0)
    values = [p for line in lines for p in line.points if p is not None]
    top_share = max([Decimal("0.1"), *values])
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(k: int) -> Decimal:
        return left + (Decimal(plot_w) * k / (count - 1) if count > 1 else Decimal(plot_w) / 2)

    def y(v: Decimal) -> Decimal:
        return top + plot_h - Decimal(plot_h) * v / top_share

    body = []
    for step in range(5):
        v = top_share * step / 4
        body.append(
            f'<line x1="{left}" y1="{_n(y(v))}" x2="{left + plot_w}" y2="{_n(y(v))}" '
            f'stroke="{_GRID}"/>'
        )
        body.append(_text(left - 6, y(v) + 4, share(v), "end", 10))
    for k in range(count):
        body.append(_text(x(k), top + plot_h + 16, str(k + 1), "middle", 10))
    body.append(_text(left + plot_w // 2, height - 6, x_label, "middle", 11))
    for n, line in enumerate(lines):
        colour = _PALETTE[line.colour % len(_PALETTE)]
        dash = ' stroke-dasharray="5 4"' if line.dashed else ""
        points = [(x(k), y(v)) for k, v in enumerate(line.points) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )
        for px, py in points:
            body.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="3" fill="{colour}"/>')
        ly = top + 14 * n + 6
        body.append(
            f'<line x1="{width - right + 10}" y1="{ly}" x2="{width - right + 34}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        body.append(_text(width - right + 40, ly + 4, line.label, "start", 11))
    if not lines:
        body.append(_text(width // 2, height // 2, "Nothing to draw yet.", "middle"))
    return _svg(name, title, width, height, body)


@dataclass(frozen=True)
class Bars:
    """One group of bars (a stage): its label and one amount per series."""

    label: str
    amounts: Sequence[int]


def bar_chart(
    name: str, title: str, series: Sequence[str], groups: Sequence[Bars], texts: Sequence[str]
) -> Markup:
    """Grouped bars of token amounts, each bar labelled with ``texts`` (one per bar, group
    by group, as the table shows the amounts)."""
    width, height, left, top, bottom = 640, 260, 40, 30, 40
    plot_h = height - top - bottom
    largest = max([1, *(a for g in groups for a in g.amounts)])
    group_w = Decimal(width - left - 20) / max(len(groups), 1)
    bar_w = group_w * Decimal("0.8") / max(len(series), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" '
            f'stroke="{_INK}"/>']  # fmt: skip
    labels = iter(texts)
    for g, group in enumerate(groups):
        x0 = left + group_w * g + group_w * Decimal("0.1")
        for s, amount in enumerate(group.amounts):
            h = Decimal(plot_h) * amount / largest
            x = x0 + bar_w * s
            body.append(
                f'<rect x="{_n(x)}" y="{_n(top + plot_h - h)}" width="{_n(bar_w - 4)}" '
                f'height="{_n(h)}" fill="{_PALETTE[s % len(_PALETTE)]}"/>'
            )
            body.append(_text(x + bar_w / 2 - 2, top + plot_h - h - 4, next(labels, ""),
                              "middle", 10))  # fmt: skip
        body.append(_text(x0 + group_w * Decimal("0.4"), height - 16, group.label, "middle"))
    for s, label in enumerate(series):
        key_x = left + 130 * s
        body.append(f'<rect x="{key_x}" y="6" width="12" height="12" '
                    f'fill="{_PALETTE[s % len(_PALETTE)]}"/>')  # fmt: skip
        body.append(_text(key_x + 18, 16, label, "start", 11))
    return _svg(name, title, width, height, body)
