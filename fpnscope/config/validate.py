"""Pydantic validation with messages that name the key path and the fix."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from fpnscope.config.schema import PresetConfig
from fpnscope.errors import ConfigError
from fpnscope.suggest import did_you_mean

_QUOTED = re.compile(r"'([^']*)'")


def validate(raw: dict[str, Any], label: str) -> PresetConfig:
    """Validate a merged document; a failure raises ConfigError with one line per problem."""
    try:
        return PresetConfig.model_validate(raw)
    except ValidationError as err:
        lines = [f"{label}: {describe(e, raw)}" for e in err.errors(include_url=False)]
        raise ConfigError("\n".join(lines)) from None


def key_path(loc: tuple[Any, ...], raw: Any, missing_key: bool = False) -> list[str]:
    """The user's key path for a pydantic ``loc``, without the union tags pydantic inserts.

    ``('neck', 'fpn', 'out_channels')`` -> ``['neck', 'out_channels']``: 'fpn' is the tag of the
    neck's union, not a key of the document, which is how it is told apart. With ``missing_key``
    the last part names a key the document lacks, and is kept.
    """
    path: list[str] = []
    node = raw
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif not (last and missing_key):
            continue  # a union tag or member label
        path.append(str(part))
    return path


def describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    """One problem as ``key.path: what is wrong (the fix)``."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    if kind in ("unknown_key", "not_applicable"):  # reported on the mapping: the key completes the path
        loc += (ctx["key"],)
    path = key_path(loc, raw, missing_key=kind == "missing")
    where = ".".join(path) or "(top level)"
    if kind in ("unknown_key", "not_applicable"):
        return f"{where}: {error['msg']}"
    if kind == "union_tag_invalid":
        kinds = _QUOTED.findall(ctx.get("expected_tags", ""))
        hint = did_you_mean(str(ctx.get("tag")), kinds, n=1)
        return f"{where}.kind: unknown kind '{ctx.get('tag')}' ({hint + ' ' if hint else ''}kinds: {', '.join(kinds)})"
    if kind == "union_tag_not_found":
        return f"{where}: missing 'kind' (say which: {', '.join(_QUOTED.findall(str(ctx.get('expected_tags', ''))))})"
    if kind == "literal_error":
        options = _QUOTED.findall(ctx.get("expected", ""))
        hint = did_you_mean(str(error["input"]), options, n=1)
        return f"{where}: {error['input']!r} is not allowed ({hint + ' ' if hint else ''}use one of: {', '.join(options)})"
    if kind == "missing":
        return f"{where}: missing required key"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{where}: expected a mapping of keys, got {_short(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if kind != "value_error" and not isinstance(got, (dict, list)):
        message += f" (got {_short(got)})"
    return f"{where}: {message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
