"""Where the bundled presets live, in a checkout and in an installed copy."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def preset_dir() -> Path:
    """The folder of bundled ``*.yaml`` presets.

    Installed, they are the package data ``fpnscope/presets``; in a source checkout they are the
    top-level ``presets/`` folder.
    """
    packaged = Path(__file__).resolve().parents[1] / "presets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "presets"


def preset_names() -> list[str]:
    """Bundled preset names, sorted."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def preset_path(name: str) -> Path | None:
    """The file of a bundled preset, or None."""
    path = preset_dir() / f"{name}.yaml"
    return path if path.is_file() else None

