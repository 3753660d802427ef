"""Test helpers: load a configuration with command-line style ``key=value`` overrides."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpnscope.config import loader
from fpnscope.config.overrides import parse_override


def load_config(target: str | Path | dict[str, Any], items: Sequence[str] = ()) -> loader.LoadedConfig:
    """``load_config("resnet50_fpn", ["input.height=64"])``: each item parsed as ``--set`` parses it."""
    return loader.load_config(target, [parse_override(item) for item in items])
