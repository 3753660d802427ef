"""Reports in a notebook: the terminal view recorded as HTML (the same tables, the same colours)
or as plain text; a graph adds its SVG drawing above its table, a sweep its chart."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, RenderableType

from fpnscope.errors import ConfigError

WIDTH = 100  # columns of the recorded view: wide enough for every table at full precision


def _recorder(width: int) -> Console:
    return Console(record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                   highlight=False)


def html(renderable: RenderableType, width: int = WIDTH) -> str:
    """``renderable`` as an HTML fragment: a ``<pre>`` with inline styles, no page around it."""
    console = _recorder(width)
    console.print(renderable)
    body = console.export_html(inline_styles=True, code_format="{code}")
    return (f'<pre style="white-space: pre; overflow-x: auto; line-height: 1.3; '
            f'font-family: Menlo, Consolas, \'DejaVu Sans Mono\', monospace; font-size: 12px">{body}</pre>')


def text(renderable: RenderableType, width: int = WIDTH) -> str:
    """``renderable`` as plain text, ``width`` columns wide, without trailing spaces."""
    console = Console(record=True, width=width, file=io.StringIO(), highlight=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def _drawing(report: Any) -> str:
    """A report's SVG drawing, or "" when it has none or its optional extra is not installed (the
    terminal view below it still has its text chart)."""
    if not hasattr(report, "to_svg"):
        return ""
    try:
        return str(report.to_svg())
    except ConfigError:
        return ""


def report_html(report: Any) -> str:
    """A report's notebook display: its drawing when it has one (a graph, a sweep's chart), then its tables."""
    drawing = _drawing(report)
    return (f'<div style="overflow-x: auto">{drawing}</div>' if drawing else "") + html(report.__rich__())
