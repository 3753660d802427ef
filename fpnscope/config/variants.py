"""Variants of a preset for ``compare``: another neck kind, or a set of key overrides."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from fpnscope.config import necks
from fpnscope.errors import ConfigError
from fpnscope.suggest import did_you_mean

NECK_MODELS: dict[str, type[BaseModel]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        necks.FPNNeck,
        necks.PAFPNNeck,
        necks.BiFPNNeck,
        necks.YoloPANNeck,
        necks.SimpleFPNNeck,
        necks.ChannelMapperNeck,
        necks.IdentityNeck,
    )
}
# the same quantity under another name in another kind
_RENAMES = {("out_channels", "width"), ("width", "out_channels")}


def swap_neck(neck: dict[str, Any], kind: str) -> dict[str, Any]:
    """The neck section with ``kind`` in place of its own, keeping every key the new kind
    understands (``out_channels`` becomes a BiFPN's ``width`` and back) and dropping values the
    new kind refuses, so that "the same neck, but a BiFPN" builds.

    >>> swap_neck({"kind": "fpn", "out_channels": 128, "fusion": "weighted", "norm": "gn"}, "bifpn")
    {'kind': 'bifpn', 'width': 128, 'norm': 'gn'}
    """
    target = NECK_MODELS.get(kind)
    if target is None:
        hint = did_you_mean(kind, NECK_MODELS)
        raise ConfigError(f"--neck {kind!r}: no such neck kind{'; ' + hint if hint else ''} (kinds: {', '.join(NECK_MODELS)})")
    fields = set(target.model_fields) - set(getattr(target, "not_applicable", {}))
    out: dict[str, Any] = {"kind": kind}
    for key, value in neck.items():
        if key == "kind":
            continue
        renamed = next((new for old, new in _RENAMES if old == key and new in fields and key not in fields), key)
        if renamed not in fields:
            continue
        try:  # keep the key only if this kind accepts its value; else the kind's default applies
            target.model_validate({**out, renamed: value})
        except ValidationError:
            continue
        out[renamed] = value
    return out


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside brackets, braces and quotes.

    >>> split_top_level("a=1,b=[C3, C4],c={x: 1, y: 2}")
    ['a=1', 'b=[C3, C4]', 'c={x: 1, y: 2}']
    """
    parts, depth, quote, current = [], 0, "", []
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
    return [p for p in parts if p]


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``"wide: out_channels=512,norm=gn"`` -> ``("wide", ["neck.out_channels=512", "neck.norm=gn"])``.

    A key without a dot is a neck key; other sections are named in full (``input.height=640``).

    >>> parse_variant("c3c5: in_features=[C3, C4, C5], input.height=640")
    ('c3c5', ['neck.in_features=[C3, C4, C5]', 'input.height=640'])
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
        items.append(f"{key if '.' in key else 'neck.' + key}={value.strip()}")
    return name, items
