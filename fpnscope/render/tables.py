"""Building blocks every terminal view shares: a table in the house style, column kinds, and
parts laid out one after another with a blank line between them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from fpnscope.render.fmt import shape
from fpnscope.reports.inspect import Level

BAR_WIDTH = 40


def table(title: str, *columns: tuple[str, dict[str, Any]]) -> Table:
    """A titled table with a rule under its header and no outer border."""
    out = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        caption_justify="left",
        caption_style="dim",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name, opts in columns:
        out.add_column(name, **opts)
    return out


def right() -> dict[str, Any]:
    """A right-aligned column."""
    return {"justify": "right"}


def figure() -> dict[str, Any]:
    """A right-aligned column that never breaks its cells (a value, or a value and its delta)."""
    return {"justify": "right", "no_wrap": True}


def spaced(parts: Sequence[RenderableType]) -> Group:
    """Parts one after another with a blank line between them (a table without a caption ends
    with a blank line of its own)."""
    items: list[RenderableType] = []
    for i, part in enumerate(parts):
        prev = parts[i - 1] if i else None
        if prev is not None and not (isinstance(prev, Table) and not prev.caption):
            items.append(Text(""))
        items.append(part)
    return Group(*items)


def level_table(title: str, levels: Iterable[Level], with_sources: bool = False) -> Table:
    """Name, shape, stride, channels (and which inputs fed each level)."""
    columns = [("Level", {"style": "bold"}), ("Shape (N×C×H×W)", {}), ("Stride", right()), ("Channels", right())]
    if with_sources:
        columns.append(("Fed by", {}))
    out = table(title, *columns)
    for lvl in levels:
        row = [lvl.name, shape(lvl.shape), str(lvl.stride), str(lvl.channels)]
        if with_sources:
            row.append(" ".join(lvl.sources) or "—")
        out.add_row(*row)
    return out


def bars(title: str, rows: Sequence[tuple[str, float | None]], fmt: Callable[[float | None], str]) -> Table:
    """Horizontal bars, one per (label, value), the longest the largest value; ``fmt`` writes the
    value with its unit."""
    top = max((x for _, x in rows if x), default=0) or 1
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    for label, value in rows:
        length = round(BAR_WIDTH * (value or 0) / top)
        grid.add_row(label, Text("█" * length, style="cyan") + Text("·" * (BAR_WIDTH - length), style="dim"), fmt(value))
    outer = table(title, ("", {}))
    outer.show_header = False
    outer.add_row(grid)
    return outer
