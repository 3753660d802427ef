"""Overrides: ``{"neck.out_channels": 128}`` applied to a merged document, before validation.

An override is a dotted key path (list indices as numbers: ``neck.in_channels.2``) and a value.
``origin`` says how the caller spelled it, so that a problem at that key can be blamed on it in the
caller's own words (``--set neck.out_channels=abc`` on the command line, ``set['neck.out_channels']``
from Python).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fpnscope.config.yamlio import parse_yaml
from fpnscope.errors import ConfigError


@dataclass(frozen=True)
class Override:
    """One key set to one value."""

    key: str
    value: Any
    origin: str = ""

    @property
    def path(self) -> list[str]:
        return self.key.split(".")

    @property
    def label(self) -> str:
        """How messages name this override."""
        return self.origin or f"set[{self.key!r}]"

    def covers(self, key: str) -> bool:
        """Whether a problem at ``key`` comes from this override (it set the key, a section holding
        it, or a key inside it).

        >>> Override("neck", {}).covers("neck.out_channels"), Override("neck.norm", "x").covers("neck")
        (True, True)
        """
        return key == self.key or key.startswith(self.key + ".") or self.key.startswith(key + ".")


OverridesLike = Mapping[str, Any] | Iterable[Override] | None


def as_overrides(given: OverridesLike) -> list[Override]:
    """Overrides from a mapping ``{key: value}`` or a sequence of :class:`Override`.

    >>> as_overrides({"neck.out_channels": 128})
    [Override(key='neck.out_channels', value=128, origin='')]
    """
    if given is None:
        return []
    if isinstance(given, Mapping):
        items = [Override(str(key), value) for key, value in given.items()]
    else:
        items = list(given)
        if not all(isinstance(item, Override) for item in items):
            raise ConfigError("«set» takes a mapping of key paths to values, such as {'neck.out_channels': 128}",
                              option="set")
    for item in items:
        if not item.key or any(not part for part in item.path):
            raise ConfigError(f"{item.label}: {item.key!r} is not a key path like 'neck.out_channels'",
                              option="set", key=item.key)
    return items


def apply_overrides(raw: dict[str, Any], items: Iterable[Override]) -> dict[str, Any]:
    """A copy of ``raw`` with each override applied in order; sections are created as needed.

    >>> apply_overrides({"neck": {"out_channels": 256}}, [Override("neck.out_channels", 128)])
    {'neck': {'out_channels': 128}}
    """
    out = copy.deepcopy(raw)
    for item in items:
        path = item.path
        node: Any = out
        for depth, part in enumerate(path[:-1]):
            node = _step(node, part, path[: depth + 1], item)
        last = path[-1]
        if isinstance(node, list):
            node[_index(node, last, item)] = copy.deepcopy(item.value)
        elif isinstance(node, dict):
            node[last] = copy.deepcopy(item.value)
        else:
            raise ConfigError(f"{item.label}: '{'.'.join(path[:-1])}' is not a section", key=item.key)
    return out


def _step(node: Any, part: str, where: list[str], item: Override) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, item)]
    if not isinstance(node, dict):
        raise ConfigError(f"{item.label}: '{'.'.join(where[:-1])}' is not a section", key=item.key)
    if part not in node or node[part] is None:
        node[part] = {}
    return node[part]


def _index(node: list[Any], part: str, item: Override) -> int:
    try:
        index = int(part)
        node[index]
    except (ValueError, IndexError):
        raise ConfigError(
            f"{item.label}: '{part}' is not an index of a list of {len(node)} items", key=item.key
        ) from None
    return index


def parse_override(text: str, origin: str | None = None) -> Override:
    """``"neck.out_channels=128"`` as an override; the value is YAML (``128``, ``[C3, C4]``, ``null``).

    >>> parse_override("neck.in_features=[C3, C4]")
    Override(key='neck.in_features', value=['C3', 'C4'], origin='«set» neck.in_features=[C3, C4]')
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"«set» {text!r}: expected key.path=value, for example «set» neck.out_channels=128",
                          option="set")
    try:
        parsed = parse_yaml(value, f"«set» {key}") if value.strip() else None
    except ConfigError as err:
        raise ConfigError(f"{err.template} (quote the value for the shell)", option="set", key=key) from None
    return Override(key, parsed, origin or f"«set» {text.strip()}")


def split_top_level(text: str, sep: str = ",", keep_empty: bool = False) -> list[str]:
    """Split at ``sep`` outside brackets, braces and quotes; empty parts are dropped unless
    ``keep_empty`` (so that a caller can refuse ``64,,128``).

    >>> split_top_level("a=1,b=[C3, C4],c={x: 1, y: 2}")
    ['a=1', 'b=[C3, C4]', 'c={x: 1, y: 2}']
    >>> split_top_level("[C3, C4],,[C5]", keep_empty=True)
    ['[C3, C4]', '', '[C5]']
    """
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts if keep_empty else [p for p in parts if p]
