"""A design space for ``sweep``: axes of values, any configuration key (the neck kind included) or
the input size, and the overrides that make each point of their cartesian product. Pure data.

On the command line an axis is ``KEY=V1,V2,...``: each value is YAML, and values are split at the
commas outside brackets, braces and quotes, so lists need no other separator:
``neck.in_features=[C2, C3, C4, C5],[C3, C4, C5]``. A key without a dot is a neck key, as in
``compare --variant``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fpnscope.config.inputs import parse_size
from fpnscope.config.overrides import Override, split_top_level
from fpnscope.config.variants import neck_key, swap_neck
from fpnscope.config.yamlio import parse_yaml
from fpnscope.errors import ConfigError

MAX_POINTS = 10_000  # a grid past this is a typo more often than a plan
INPUT = "input"  # the axis of input sizes ("HxW" values)
KIND = "neck.kind"

GridLike = Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]]
Axis = tuple[str, tuple[Any, ...]]  # a full key path and its values


def full_key(key: str) -> str:
    """A bare key is a neck key: ``out_channels`` -> ``neck.out_channels``.

    >>> full_key("out_channels"), full_key("input.height")
    ('neck.out_channels', 'input.height')
    """
    key = key.strip()
    return key if "." in key else f"neck.{key}"


def parse_axis(text: str) -> tuple[str, list[Any]]:
    """``"neck.out_channels=64,128"`` -> ``("neck.out_channels", [64, 128])``: YAML values, split at
    the commas outside brackets.

    >>> parse_axis("in_features=[C3, C4, C5],[C4,C5]")
    ('neck.in_features', [['C3', 'C4', 'C5'], ['C4', 'C5']])
    """
    key, sep, body = text.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError(f"«grid» {text!r}: expected KEY=V1,V2,..., e.g. «grid» neck.out_channels=64,128,256",
                          option="grid")
    parts = split_top_level(body, keep_empty=True)
    if not body.strip() or not all(parts):
        raise ConfigError(f"«grid» {text!r}: give comma-separated values, none empty, e.g. «grid» "
                          f"{key.strip()}=64,128", option="grid")
    return full_key(key), [parse_yaml(part, f"«grid» {key.strip()}={part}") for part in parts]


def grid_axes(grid: GridLike, inputs: Sequence[tuple[int, int]] = (), sets: Sequence[Override] = ()) -> list[Axis]:
    """The axes in the order their points are measured: the input sizes and ``backbone.*`` keys
    vary slowest, so points that share a backbone and an input come one after another. A key both
    on an axis and among the overrides ``sets`` is refused.

    >>> grid_axes({"out_channels": [64, 128], "backbone.name": ["resnet18", "resnet50"]}, [(512, 512)])
    [('backbone.name', ('resnet18', 'resnet50')), ('neck.out_channels', (64, 128))]
    """
    pairs = list(grid.items()) if isinstance(grid, Mapping) else list(grid)
    axes: list[Axis] = []
    for key, values in pairs:
        if not isinstance(key, str) or not key.strip() or any(not p for p in key.strip().split(".")):
            raise ConfigError(f"«grid» {key!r}: a key path like 'neck.out_channels'", option="grid")
        if key.strip() == INPUT:
            raise ConfigError("«grid» input: give the input sizes as «inputs» (HxW each)", option="grid")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ConfigError(f"«grid» {key}: give a list of values, e.g. [64, 128]", option="grid")
        if not values:
            raise ConfigError(f"«grid» {key}: no values", option="grid")
        axes.append((full_key(key), tuple(values)))
    keys = [k for k, _ in axes]
    for key in keys:
        if keys.count(key) > 1:
            raise ConfigError(f"«grid» {key} is given twice; give its values once", option="grid")
    for key, values in axes:
        seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
        if len(set(seen)) != len(seen):
            raise ConfigError(f"«grid» {key}: a value is given twice", option="grid")
        if key == KIND:
            for kind in values:
                swap_neck({}, str(kind), option="grid")  # an unknown kind is refused before anything runs
    sized = [(INPUT, tuple(f"{h}x{w}" for h, w in inputs))] if len(inputs) > 1 else []
    slow = [a for a in axes if a[0].startswith("backbone.")]
    ordered = [*sized, *slow, *(a for a in axes if a not in slow)]
    if not ordered:
        raise ConfigError("«grid»: give at least one axis, e.g. «grid» neck.out_channels=64,128", option="grid")
    count = 1
    for _, values in ordered:
        count *= len(values)
    if count > MAX_POINTS:
        raise ConfigError(f"«grid»: {count:,} points is more than {MAX_POINTS:,}; narrow the grid", option="grid")
    clash = [o.key for o in sets if o.key in {k for k, _ in ordered} | ({"input.height", "input.width"} if sized else set())]
    if clash:
        raise ConfigError(f"{clash[0]} is both in «set» and in «grid»; give it in one of them", option="grid")
    return ordered


def grid_points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every point of the cartesian product, the last axis varying fastest.

    >>> grid_points([("neck.kind", ("fpn", "bifpn")), ("neck.out_channels", (64, 128))])[1]
    {'neck.kind': 'fpn', 'neck.out_channels': 128}
    """
    keys = [k for k, _ in axes]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(values for _, values in axes))]


def value_text(value: Any) -> str:
    """A grid value as a command line writes it: ``[C3, C4]``, ``96``, ``800x1333``.

    >>> value_text(["C3", "C4"]), value_text(None), value_text(True)
    ('[C3, C4]', 'null', 'true')
    """
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def point_label(values: Mapping[str, Any]) -> str:
    """A point in a few words, for a progress line: ``bifpn 96 [C3, C4, C5]``."""
    return " ".join(value_text(v) for v in values.values())


def point_overrides(values: Mapping[str, Any], sets: Sequence[Override], kind: str) -> list[Override]:
    """The overrides that make one point, ``sets`` first: each neck key is spelled as ``kind``
    spells it (``out_channels`` is a BiFPN's ``width``), and each names its axis when it is wrong.

    >>> [(o.key, o.value) for o in point_overrides({"input": "64x96", "neck.out_channels": 96}, [], "bifpn")]
    [('input.height', 64), ('input.width', 96), ('neck.width', 96)]
    """
    out = [_for_kind(o, kind) for o in sets]
    for key, value in values.items():
        if key == KIND:
            continue  # the neck is swapped whole (see neck_swap)
        origin = f"«grid» {key}={value_text(value)}"
        if key == INPUT:
            height, width = parse_size(value)
            out += [Override("input.height", height, origin), Override("input.width", width, origin)]
        else:
            out.append(_for_kind(Override(key, value, origin), kind))
    return out


def _for_kind(item: Override, kind: str) -> Override:
    parts = item.path
    if len(parts) != 2 or parts[0] != "neck" or (renamed := neck_key(kind, parts[1])) == parts[1]:
        return item
    return Override(f"neck.{renamed}", item.value, f"{item.label} (a {kind}'s {renamed})")


def neck_swap(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The transform that puts a neck of ``kind`` on a document, as ``compare --neck`` does."""

    def transform(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "neck": swap_neck(raw.get("neck") or {}, kind, option="grid")}

    return transform
