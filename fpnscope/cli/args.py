"""The command line's own syntax: comma lists, ``--set key=value`` and ``--variant "name: k=v,..."``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fpnscope.api import Override, parse_override, split_top_level
from fpnscope.errors import ConfigError


def parse_list(text: str, option: str, item: Callable[[str], Any] = str) -> list[Any]:
    """``"1,8,32"`` -> ``["1", "8", "32"]``; each item parsed by ``item``.

    >>> parse_list("fpn, bifpn", "--neck")
    ['fpn', 'bifpn']
    """
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise ConfigError(f"{option} {text!r}: give comma-separated values, like {option} 1,8,32")
    return [item(p) for p in parts]


def parse_sets(items: Sequence[str] | None) -> list[Override]:
    """Each ``--set key.path=value``, blamed as ``--set key.path=value`` when it sets a bad key."""
    return [parse_override(item, f"--set {item.strip()}") for item in items or []]


def parse_variant(text: str) -> tuple[str, list[Override]]:
    """``"wide: out_channels=512,norm=gn"`` -> ``("wide", [neck.out_channels=512, neck.norm=gn])``.

    A key without a dot is a neck key; other sections are named in full (``input.height=640``).

    >>> name, items = parse_variant("c3c5: in_features=[C3, C4, C5], input.height=640")
    >>> name, [(o.key, o.value) for o in items]
    ('c3c5', [('neck.in_features', ['C3', 'C4', 'C5']), ('input.height', 640)])
    """
    name, sep, body = text.partition(":")
    name = name.strip()
    if not sep or not name or not body.strip():
        raise ConfigError(f"--variant {text!r}: expected 'name: key=value,key=value', e.g. 'wide: out_channels=512'")
    items = []
    for item in split_top_level(body):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--variant {text!r}: {item!r} is not key=value")
        key = key.strip()
        assignment = f"{key if '.' in key else 'neck.' + key}={value.strip()}"
        items.append(parse_override(assignment, f"--variant {name!r}: {assignment}"))
    return name, items
