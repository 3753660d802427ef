"""Tables that never cut a number or a unit.

At a width too narrow for a table, its text columns fold first (they are made to), then the
columns it names go one by one, with a note in its caption, and last the table is stacked: one
block per row, each figure beside its header. A figure is never shortened with an ellipsis.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


def without(table: Table, headers: Iterable[str]) -> Table:
    """A copy of ``table`` without the columns of ``headers``, whose text columns may fold but not
    below their header and their longest word."""
    gone = set(headers)
    out = copy.copy(table)
    out.columns = []
    for column in table.columns:
        if str(column.header) in gone:
            continue
        column = copy.copy(column)
        column._index = len(out.columns)  # rich pads by position: the first and last columns differ
        texts = [cell.plain if isinstance(cell, Text) else str(cell) for cell in column._cells]
        if column.no_wrap:  # a figure: as wide as its widest cell, which is never cut
            column.min_width = max([column.min_width or 0, *(cell_len(t) for t in [*texts, str(column.header)])])
        else:  # text: folds, but not below its longest word
            words = [w for t in texts for w in t.split()] + str(column.header).split()
            column.min_width = max([column.min_width or 0, *(cell_len(w) for w in words)])
        out.columns.append(column)
    return out


def stacked(table: Table) -> Group:
    """``table`` as blocks, one per row: the first cell, then each header and value."""
    parts: list[Text] = [Text(str(table.title or ""), style="bold")] if table.title else []
    columns = table.columns
    for row in range(table.row_count):
        cells = [c._cells[row] if row < len(c._cells) else "" for c in columns]
        block = Text()
        block.append_text(Text(str(cells[0])) if not isinstance(cells[0], Text) else cells[0])
        block.stylize("bold")
        for column, cell in zip(columns[1:], cells[1:]):
            if str(cell).strip():
                block.append(f"\n  {column.header}: ", style="dim")
                block.append_text(cell if isinstance(cell, Text) else Text(str(cell)))
        parts.append(block)
    if table.caption:
        parts.append(Text(str(table.caption), style="dim"))
    return Group(*parts)


class Fit:
    """``table`` at the width it is drawn at: whole, without the columns of ``drop`` (in that
    order) with a note, or stacked."""

    def __init__(self, table: Table, drop: Sequence[str] = ()) -> None:
        self.table = table
        self.drop = [d for d in drop if d in {str(c.header) for c in table.columns}]

    @staticmethod
    def _fits(console: Console, options: ConsoleOptions, table: Table) -> bool:
        # measured without the width limit, which a measurement would otherwise be clamped to
        return Measurement.get(console, options.update(max_width=1 << 16), table).minimum <= options.max_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gone: list[str] = []
        table = without(self.table, ())
        for header in [None, *self.drop]:
            if header is not None:
                gone.append(header)
                table = without(self.table, gone)
            if self._fits(console, options, table):
                if gone:
                    table.caption = (f"{table.caption} " if table.caption else "") + (
                        f"Left out to fit {options.max_width} columns: {', '.join(gone)} "
                        "(--format markdown or --json have every column).")
                yield table
                if gone and not self.table.caption:
                    yield Text("")  # a caption the layout did not expect: the blank line after it
                return
        yield stacked(self.table)
        if not self.table.caption:
            yield Text("")  # where the table would have ended in a blank line of its own

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)


def natural_width(console: Console, renderable: Table | Fit) -> int:
    """The width a table takes with room to spare, its caption aside (a caption folds to it)."""
    table = without(renderable.table if isinstance(renderable, Fit) else renderable, ())
    table.caption = None
    return Measurement.get(console, console.options.update(max_width=1 << 16), table).maximum
