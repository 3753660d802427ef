"""The bundled presets, as ``presets list`` shows them; ``to_dict()`` is its ``--json`` output (a list)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from fpnscope.reports.common import Displayable


@dataclass(frozen=True)
class PresetInfo:
    """One bundled preset, read from its YAML alone (no model is built)."""

    name: str
    backbone: str
    neck: str
    head: str | None
    levels: list[str] | None  # None when the levels are known only once the model is built
    description: str


@dataclass
class PresetList(Displayable):
    """Every bundled preset, by name."""

    view: ClassVar[str] = "fpnscope.render.presets:view"

    presets: list[PresetInfo]

    def to_dict(self) -> Any:
        """The ``presets list --json`` document: a list with one mapping per preset."""
        return [asdict(p) for p in self.presets]
