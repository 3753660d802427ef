"""Variants of a preset for ``compare`` and ``sweep``: the same model with another neck kind."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from fpnscope.config.necks import NECK_OPTIONS
from fpnscope.errors import ConfigError
from fpnscope.suggest import did_you_mean

NECK_MODELS: dict[str, type[BaseModel]] = {cls.model_fields["kind"].default: cls for cls in NECK_OPTIONS}
# the same quantity under another name in another kind
_RENAMES = {("out_channels", "width"), ("width", "out_channels")}


def swap_neck(neck: dict[str, Any], kind: str, option: str = "necks") -> dict[str, Any]:
    """The neck section with ``kind`` in place of its own, keeping every key the new kind
    understands (``out_channels`` becomes a BiFPN's ``width`` and back) and dropping values the
    new kind refuses, so that "the same neck, but a BiFPN" builds. An unknown kind is blamed on
    ``option``.

    >>> swap_neck({"kind": "fpn", "out_channels": 128, "fusion": "weighted", "norm": "gn"}, "bifpn")
    {'kind': 'bifpn', 'width': 128, 'norm': 'gn'}
    """
    target = NECK_MODELS.get(kind)
    if target is None:
        hint = did_you_mean(kind, NECK_MODELS)
        raise ConfigError(f"«{option}» {kind!r}: no such neck kind{'; ' + hint if hint else ''} (kinds: {', '.join(NECK_MODELS)})",
                          option=option, choices=list(NECK_MODELS))
    fields = set(target.model_fields) - set(getattr(target, "not_applicable", {}))
    out: dict[str, Any] = {"kind": kind}
    for key, value in neck.items():
        if key == "kind":
            continue
        renamed = neck_key(kind, key)
        if renamed not in fields:
            continue
        try:  # keep the key only if this kind accepts its value; else the kind's default applies
            target.model_validate({**out, renamed: value})
        except ValidationError:
            continue
        out[renamed] = value
    return out


def neck_key(kind: str, key: str) -> str:
    """The name ``kind`` gives a neck key that another kind spells differently (``out_channels`` is
    a BiFPN's ``width``), so that one grid axis means the same quantity on every neck kind.

    >>> neck_key("bifpn", "out_channels"), neck_key("fpn", "width"), neck_key("fpn", "norm")
    ('width', 'out_channels', 'norm')
    """
    target = NECK_MODELS.get(kind)
    if target is None:
        return key
    fields = set(target.model_fields) - set(getattr(target, "not_applicable", {}))
    return next((new for old, new in _RENAMES if old == key and new in fields and key not in fields), key)
