"""Parsing the command line's own values: sizes, lists, overrides. No torch, no typer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fpnscope.errors import ConfigError


def parse_size(text: str) -> tuple[int, int]:
    """``"800x1333"`` -> (800, 1333); ``"512"`` -> (512, 512).

    >>> parse_size("800x1333")
    (800, 1333)
    """
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) == 1:
            height = width = int(parts[0])
        elif len(parts) == 2:
            height, width = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--input {text!r}: expected HxW like 800x1333, or one number for a square") from None
    if height <= 0 or width <= 0:
        raise ConfigError(f"--input {text!r}: height and width must be positive")
    return height, width


def collect_overrides(sets: list[str], size: str | None, batch: int | None) -> list[str]:
    items = list(sets)
    if size is not None:
        height, width = parse_size(size)
        items += [f"input.height={height}", f"input.width={width}"]
    if batch is not None:
        if batch <= 0:
            raise ConfigError(f"--batch {batch}: must be a positive integer")
        items.append(f"input.batch={batch}")
    return items


def parse_list(text: str, option: str, item: Callable[[str], Any]) -> list[Any]:
    """``"1,8,32"`` -> [1, 8, 32]; each item parsed by ``item``."""
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise ConfigError(f"{option} {text!r}: give comma-separated values, like {option} 1,8,32")
    return [item(p) for p in parts]


def parse_batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"--batch {text!r}: a batch size is a positive integer") from None
    if value <= 0:
        raise ConfigError(f"--batch {value}: must be a positive integer")
    return value


def check_python_allowed(loaded: Any, allowed: bool, overrides: list[str]) -> None:
    """A ``kind: python`` backbone runs the user's code: only from a bundled preset as shipped,
    or when allowed."""
    if loaded.config.backbone.kind != "python" or allowed:
        return
    if loaded.source.bundled and not overrides:
        return
    raise ConfigError(
        f"{loaded.source.label}: backbone kind python imports and runs "
        f"'{loaded.config.backbone.target}'; fpnscope runs code named in a YAML file or --set only "
        "when told to: add --allow-python if you trust this file"
    )
