"""Building blocks every terminal view shares: a table in the house style, column kinds, and
parts laid out one after another with a blank line between them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from fpnscope.render.fit import Fit
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
        min_width=len(title) + 2,  # a narrow table keeps its title on one line ("Head outputs (deeplabv3plus)")
    )
    for name, opts in columns:
        # a text column folds rather than ending in an ellipsis; figures are no_wrap (see Fit)
        out.add_column(name, **({"overflow": "fold"} | opts if not opts.get("no_wrap") else opts))
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
        prev = prev.table if isinstance(prev, Fit) else prev
        if prev is not None and not (isinstance(prev, Table) and not prev.caption):
            items.append(Text(""))
        items.append(part)
    return Group(*items)


def level_table(title: str, levels: Iterable[Level], with_sources: bool = False, keys: bool = False) -> Table:
    """Name, shape, stride, channels (the key a dict gave each map, and which inputs fed it)."""
    columns: list[tuple[str, dict[str, Any]]] = [("Level", {"style": "bold", "no_wrap": True}), ("Shape (N×C×H×W)", {"no_wrap": True}),
               ("Stride", right() | {"no_wrap": True}), ("Channels", right() | {"no_wrap": True})]
    if keys:
        columns.insert(1, ("Key", {"style": "dim"}))
    if with_sources:
        columns.append(("Fed by", {}))
    fields = any(lvl.receptive_field is not None or lvl.receptive_global for lvl in levels)
    if fields:
        columns.append(("Receptive field", right() | {"no_wrap": True}))
    out = table(title, *columns)
    for lvl in levels:
        row = [lvl.name, shape(lvl.shape), str(lvl.stride), str(lvl.channels)]
        if keys:
            row.insert(1, lvl.key or "")
        if with_sources:
            row.append(" ".join(lvl.sources) or "—")
        if fields:
            row.append("global" if lvl.receptive_global else f"{lvl.receptive_field:,} px" if lvl.receptive_field else "—")
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
