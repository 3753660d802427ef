"""What every report shares: the header of its JSON document, and how it displays itself.

A report names the view that draws it by import path (``"fpnscope.render.inspect:view"``), the way
a preset names its builder: importing a report imports neither rich nor the renderers, and only
displaying one does.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, ClassVar

from fpnscope._version import __version__

# Version of the JSON documents the reports write. 1: fpnscope 0.1.0 before the key existed.
SCHEMA_VERSION = 2


def header(command: str) -> dict[str, Any]:
    """The keys every JSON document starts with.

    >>> header("graph")["tool"]["command"], header("graph")["schema_version"]
    ('graph', 2)
    """
    return {"schema_version": SCHEMA_VERSION, "tool": {"name": "fpnscope", "version": __version__, "command": command}}


class Displayable:
    """Shows a report as the terminal shows it: ``rich.print(report)``, and in Jupyter as HTML with
    a plain-text fallback."""

    view: ClassVar[str] = ""  # "module:function" returning a rich renderable of the report

    def to_dict(self) -> Any:  # pragma: no cover - every report defines it
        raise NotImplementedError

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document (``to_dict()``) as text, as ``--json`` prints it."""
        return json.dumps(self.to_dict(), indent=indent)

    def _view(self) -> Any:
        module, _, name = self.view.partition(":")
        return getattr(importlib.import_module(module), name)(self)

    def __rich__(self) -> Any:
        return self._view()

    def _repr_html_(self) -> str:
        return str(importlib.import_module("fpnscope.render.notebook").report_html(self))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's plain-text display (and the text/plain fallback of a notebook)
        printer.text("..." if cycle else self.to_text())

    def to_text(self, width: int = 100) -> str:
        """The report as the terminal shows it, as plain text ``width`` columns wide."""
        return str(importlib.import_module("fpnscope.render.notebook").text(self._view(), width))
