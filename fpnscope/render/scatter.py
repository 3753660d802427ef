"""A scatter plot in text characters: two metrics, one mark per point, the front highlighted.

Drawn on a grid of cells (60 × 14 by default) with the y axis's ticks on the left and the x
axis's below; with its labels it fits in 100 columns. Where two points fall in one cell, the more
interesting one shows (best, then the front, then the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text

# mark, style and rank of each kind of point (a higher rank wins a shared cell)
MARKS = {
    "best": ("★", "bold yellow", 3),
    "front": ("●", "bold green", 2),
    "point": ("○", "cyan", 1),
    "outside": ("·", "dim", 0),
}
LEGEND = {"best": "best", "front": "Pareto front", "point": "other points", "outside": "outside the constraints"}


@dataclass(frozen=True)
class Dot:
    """One point to draw: where, which kind (a key of MARKS), and its label (front and best are labelled)."""

    x: float
    y: float
    kind: str
    label: str = ""


def _position(value: float, low: float, high: float, cells: int) -> int:
    """The cell of ``value`` between ``low`` (cell 0) and ``high`` (the last cell).

    >>> _position(5, 0, 10, 11), _position(3, 3, 3, 11)
    (5, 5)
    """
    if high == low:
        return cells // 2
    return round((value - low) / (high - low) * (cells - 1))


def scatter(
    dots: Sequence[Dot],
    x_title: str,
    y_title: str,
    x_fmt: Callable[[float], str],
    y_fmt: Callable[[float], str],
    width: int = 60,
    height: int = 14,
) -> Text:
    """The plot as styled text: ``y_title`` up the left, ``x_title`` along the bottom, ticks with units."""
    if not dots:
        return Text("no point has both figures to plot", style="dim")
    xs, ys = [d.x for d in dots], [d.y for d in dots]
    x_low, x_high, y_low, y_high = min(xs), max(xs), min(ys), max(ys)
    cells: list[list[tuple[str, str, int]]] = [[(" ", "", -1)] * width for _ in range(height)]
    placed: list[tuple[int, int, Dot]] = []
    for dot in dots:
        col = _position(dot.x, x_low, x_high, width)
        row = height // 2 if y_high == y_low else height - 1 - _position(dot.y, y_low, y_high, height)
        mark, style, rank = MARKS[dot.kind]
        if rank > cells[row][col][2]:
            cells[row][col] = (mark, style, rank)
            placed.append((row, col, dot))
    for row, col, dot in placed:  # labels to the right of their mark, where the cells are free
        text = dot.label
        if not text or cells[row][col][0] != MARKS[dot.kind][0]:
            continue
        span = range(col + 1, col + 1 + len(text))
        if span.stop <= width and all(cells[row][c][2] == -1 for c in range(col + 1, min(width, span.stop + 1))):
            for c, ch in zip(span, text):
                cells[row][c] = (ch, MARKS[dot.kind][1], -2)  # a label is not a point: a mark may not land on it
    # each tick says the value of its own row exactly
    ticks = {r: y_fmt(y_high - r / (height - 1) * (y_high - y_low)) for r in (0, height // 2, height - 1)}
    if y_high == y_low:
        ticks = {height // 2: y_fmt(y_high)}
    pad = max(len(t) for t in ticks.values())
    out = Text()
    out.append(f"{y_title}\n", style="bold")
    for r in range(height):
        out.append(f"{ticks.get(r, ''):>{pad}} ", style="dim")
        out.append("┤" if r in ticks else "│", style="dim")
        for mark, style, _ in cells[r]:
            out.append(mark, style=style or None)
        out.append("\n")
    out.append(" " * pad + " └" + "─" * width + "\n", style="dim")
    out.append(_x_ticks(x_low, x_high, x_fmt, pad + 2, width), style="dim")
    out.append("\n" + " " * (pad + 2) + f"{x_title:^{width}}".rstrip() + "\n", style="bold")
    kinds = [k for k in MARKS if any(d.kind == k for d in dots)]
    legend = Text(" " * (pad + 2))
    for i, kind in enumerate(kinds):
        mark, style, _ = MARKS[kind]
        legend.append(("   " if i else "") + mark, style=style)
        legend.append(f" {LEGEND[kind]}")
    out.append_text(legend)
    return out


def _x_ticks(low: float, high: float, fmt: Callable[[float], str], indent: int, width: int) -> str:
    """Tick labels under the x axis: the lowest starting at its column, the middle column's value
    centred on it, the highest ending at its column.

    >>> _x_ticks(0, 95, lambda v: f"{v:.0f} ms", 2, 20)
    '  0 ms    50 ms  95 ms'
    """
    if high == low:
        return " " * indent + f"{fmt(low):^{width}}".rstrip()
    middle = width // 2
    left, mid, right = fmt(low), fmt(low + middle / (width - 1) * (high - low)), fmt(high)
    line = left + " " * max(1, middle - len(left) - len(mid) // 2) + mid
    line += " " * max(1, width - len(line) - len(right)) + right
    return " " * indent + line
