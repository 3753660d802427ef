"""Pydantic validation with messages that name the key path and the fix."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from fpnscope.config.overrides import Override
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import ConfigError, Problem
from fpnscope.suggest import did_you_mean

_QUOTED = re.compile(r"'([^']*)'")
M = TypeVar("M", bound=BaseModel)


def validate(raw: dict[str, Any], label: str, overrides: Sequence[Override] = ()) -> PresetConfig:
    """Validate a merged document; a failure is a ConfigError with every problem, each blamed on the
    override that set its key, if one did."""
    return validate_as(PresetConfig, raw, label, overrides)


def validate_as(model: type[M], raw: dict[str, Any], label: str, overrides: Sequence[Override] = ()) -> M:
    """Validate ``raw`` as ``model`` (a whole preset, or one section given from Python)."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        problems = []
        for error in err.errors(include_url=False):
            key, message = describe(error, raw)
            origin = next((o.label for o in overrides if o.covers(key)), None) if key else None
            problems.append(Problem(label, key, message, origin))
        raise ConfigError(file=label, problems=problems) from None


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


def model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The option model a pydantic ``loc`` points into: ``('neck', 'fpn')`` -> FPNNeck."""
    node: Any = PresetConfig
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return None
            node = field.annotation
            continue
        members = _models_in(node)
        tagged = [m for m in members if m.model_fields.get("kind") and m.model_fields["kind"].default == part]
        if tagged:
            node = tagged[0]
        elif len(members) == 1:
            node = members[0]
            field = node.model_fields.get(str(part))
            node = field.annotation if field is not None else None
        else:
            return None
    if isinstance(node, type) and issubclass(node, BaseModel):
        return node
    members = _models_in(node)
    return members[0] if members else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The option models a field's type may hold (the members of a union, nested ones too)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def describe(error: Any, raw: dict[str, Any]) -> tuple[str, str]:
    """One pydantic error as (``key.path``, what is wrong and the fix)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    if kind == "not_applicable":  # reported on the mapping: the key completes the path
        loc += (ctx["key"],)
    if kind == "extra_forbidden":
        model = model_at(loc[:-1])
        known = list(model.model_fields) if model is not None else []
        hint = did_you_mean(str(loc[-1]), known, n=1) or ("valid keys: " + ", ".join(known) if known else "")
        where = ".".join(key_path(loc, raw))
        return where, f"unknown key '{loc[-1]}'" + (f" ({hint})" if hint else "")
    where = ".".join(key_path(loc, raw, missing_key=kind == "missing"))
    if kind == "union_tag_invalid":
        where = f"{where}.kind" if where else "kind"
    return where, _message(error, kind, ctx)


def _message(error: Any, kind: str, ctx: dict[str, Any]) -> str:
    if kind == "not_applicable":
        return str(error["msg"])
    if kind == "union_tag_invalid":
        kinds = _QUOTED.findall(ctx.get("expected_tags", ""))
        hint = did_you_mean(str(ctx.get("tag")), kinds, n=1)
        return f"unknown kind '{ctx.get('tag')}' ({hint + ' ' if hint else ''}kinds: {', '.join(kinds)})"
    if kind == "union_tag_not_found":
        return f"missing 'kind' (say which: {', '.join(_QUOTED.findall(str(ctx.get('expected_tags', ''))))})"
    if kind == "literal_error":
        options = _QUOTED.findall(ctx.get("expected", ""))
        hint = did_you_mean(str(error["input"]), options, n=1)
        return f"{error['input']!r} is not allowed ({hint + ' ' if hint else ''}use one of: {', '.join(options)})"
    if kind == "missing":
        return "missing required key"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_short(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if kind != "value_error" and not isinstance(got, (dict, list)):
        message += f" (got {_short(got)})"
    return message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
