"""Backbone adapters. Each builder is called as ``builder(options, context)`` and returns
``(module, declared LevelSpecs or None)``; the module's forward takes an image batch and returns a
list of feature maps, finest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildContext:
    """What a backbone may need to know besides its options: the input it will see (for models
    built for one size) and the folder a user's module is looked up in."""

    input_hw: tuple[int, int] | None = None
    base_dir: Path | None = None
