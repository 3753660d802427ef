"""The input a model is analysed at, as callers give it: ``800x1333``, ``512``, ``(800, 1333)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fpnscope.config.overrides import Override
from fpnscope.errors import ConfigError

SizeLike = int | str | Sequence[int]


def parse_size(given: SizeLike) -> tuple[int, int]:
    """``"800x1333"`` -> (800, 1333); ``512`` or ``"512"`` -> (512, 512); ``(800, 1333)`` as it is.

    >>> parse_size("800x1333"), parse_size(512), parse_size((64, 96))
    ((800, 1333), (512, 512), (64, 96))
    """
    try:
        if isinstance(given, bool):
            raise ValueError
        if isinstance(given, int):
            height = width = given
        elif isinstance(given, str):
            parts = given.lower().replace("×", "x").split("x")
            if len(parts) not in (1, 2):
                raise ValueError
            height, width = int(parts[0]), int(parts[-1])
        else:
            height, width = (int(v) for v in given)
    except (ValueError, TypeError):
        raise ConfigError(f"«input» {given!r}: expected HxW like 800x1333, or one number for a square",
                          option="input") from None
    if height <= 0 or width <= 0:
        raise ConfigError(f"«input» {given!r}: height and width must be positive", option="input")
    return height, width


def parse_batch(given: int | str) -> int:
    """A batch size: a positive integer (``"8"`` is read as 8).

    >>> parse_batch("8")
    8
    """
    try:
        if isinstance(given, bool):
            raise ValueError
        value = int(given)
    except (ValueError, TypeError):
        raise ConfigError(f"«batch» {given!r}: a batch size is a positive integer", option="batch") from None
    if value <= 0:
        raise ConfigError(f"«batch» {value}: must be a positive integer", option="batch")
    return value


def input_overrides(size: SizeLike | None, batch: int | str | None) -> list[Override]:
    """The overrides ``input`` and ``batch`` stand for.

    >>> [(o.key, o.value) for o in input_overrides("64x96", 2)]
    [('input.height', 64), ('input.width', 96), ('input.batch', 2)]
    """
    items: list[Override] = []
    if size is not None:
        height, width = parse_size(size)
        items += [Override("input.height", height, "«input»"), Override("input.width", width, "«input»")]
    if batch is not None:
        items.append(Override("input.batch", parse_batch(batch), "«batch»"))
    return items


def many(given: Any) -> list[Any]:
    """One value or a list of them (``profile`` sweeps sizes and batches).

    >>> many(512), many([512, "800x1333"]), many((800, 1333))
    ([512], [512, '800x1333'], [(800, 1333)])
    """
    if given is None:
        return []
    if isinstance(given, list):
        return list(given)
    return [given]
