"""Plain tables, written as CSV and Markdown (the rich renderers draw the terminal view).

Numbers stay numbers here (raw counts, milliseconds) so a spreadsheet can compute with them; the
first table of each report is its CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | int | float | None


@dataclass(frozen=True)
class PlainTable:
    """A titled table of cells."""

    title: str
    headers: list[str]
    rows: list[list[Cell]]


def to_csv(tables: Sequence[PlainTable]) -> str:
    """The first table as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(tables[0].headers)
    writer.writerows(["" if c is None else c for c in row] for row in tables[0].rows)
    return out.getvalue()


def _md(cell: Cell) -> str:
    """A cell for people: thousands separated, floats to four significant figures.

    >>> [_md(c) for c in (26_852_416, 33.235224000236485, 0.13184958850630052, 12345.678, None)]
    ['26,852,416', '33.24', '0.1318', '12,346', '']
    """
    if cell is None:
        text = ""
    elif isinstance(cell, bool) or not isinstance(cell, (int, float)):
        text = str(cell)
    elif abs(cell) >= 10_000:
        text = f"{cell:,.0f}"
    elif isinstance(cell, float):
        text = f"{cell:.4g}"
    else:
        text = str(cell)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(tables: Sequence[PlainTable], title: str | None = None) -> str:
    """Every table under its own heading.

    >>> print(to_markdown([PlainTable("T", ["a", "b"], [[1, 25000]])]).strip())
    ### T
    <BLANKLINE>
    | a | b |
    |---|---|
    | 1 | 25,000 |
    """
    parts = [f"## {title}\n"] if title else []
    for table in tables:
        if not table.rows:
            continue
        parts.append(f"### {table.title}\n")
        parts.append("| " + " | ".join(table.headers) + " |")
        parts.append("|" + "---|" * len(table.headers))
        parts.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows)
        parts.append("")
    return "\n".join(parts) + "\n"
