"""Loading a preset: name or path, ``_base_`` inheritance, ``--set`` overrides, validation.

Merging and overriding work on plain dicts (no pydantic), so ``presets list`` can read
descriptions without paying for validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fpnscope.config.presets import preset_names, preset_path
from fpnscope.config.yamlio import parse_yaml, read_yaml_file
from fpnscope.errors import ConfigError
from fpnscope.suggest import did_you_mean

MAX_BASE_DEPTH = 16

if TYPE_CHECKING:
    from fpnscope.config.schema import PresetConfig


@dataclass(frozen=True)
class Source:
    """Where a configuration came from."""

    label: str  # what error messages call it: a preset name or a path
    path: Path
    bundled: bool


def looks_like_path(target: str) -> bool:
    """A target naming a file rather than a bundled preset."""
    return target.endswith((".yaml", ".yml")) or "/" in target or "\\" in target


def resolve(target: str, relative_to: Path | None = None, paths: bool = True) -> Source:
    """Turn a preset name or a path into a Source; an unknown name gets the closest names (and,
    where ``paths`` are accepted, the reminder that a file works too)."""
    if looks_like_path(target) or (relative_to is None and Path(target).is_file()):
        path = Path(target)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return Source(label=str(path), path=path, bundled=False)
    found = preset_path(target)
    if found is None:
        hint = did_you_mean(target, preset_names())
        raise ConfigError(
            f"unknown preset '{target}'"
            + (f"; {hint}" if hint else "")
            + (" (see `fpnscope presets list`, or give a path to a .yaml file)" if paths else " (see `fpnscope presets list`)")
        )
    return Source(label=target, path=found, bundled=True)


def deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge ``child`` over ``base``: dicts merge key by key, anything else is replaced.

    A section whose ``kind`` changes replaces the base section whole, since the keys of one
    backbone or neck kind mean nothing to another.

    >>> deep_merge({"neck": {"kind": "fpn", "out_channels": 256}}, {"neck": {"out_channels": 128}})
    {'neck': {'kind': 'fpn', 'out_channels': 128}}
    """
    out = copy.deepcopy(base)
    for key, value in child.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            kind_changes = "kind" in value and value.get("kind") != old.get("kind")
            out[key] = copy.deepcopy(value) if kind_changes else deep_merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_raw(source: Source, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The merged document of ``source`` with its ``_base_`` chain resolved."""
    resolved = source.path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, resolved))
        raise ConfigError(f"{source.label}: _base_ inheritance loops: {cycle}")
    if len(_chain) >= MAX_BASE_DEPTH:
        raise ConfigError(f"{source.label}: _base_ chain deeper than {MAX_BASE_DEPTH} files")
    data = read_yaml_file(source.path)
    if data is None:
        raise ConfigError(f"{source.label}: the file is empty; a preset needs backbone: and neck:")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source.label}: the top level must be a mapping (backbone:, neck:, ...), "
            f"not a {type(data).__name__}"
        )
    base_ref = data.pop("_base_", None)
    if base_ref is None:
        return data
    if not isinstance(base_ref, str) or not base_ref:
        raise ConfigError(f"{source.label}: _base_ must be a preset name or a relative path")
    try:
        base_source = resolve(base_ref, relative_to=source.path.parent)
    except ConfigError as err:
        raise ConfigError(f"{source.label}: _base_: {err}") from None
    base = load_raw(base_source, (*_chain, resolved))
    merged = deep_merge(base, data)
    if "name" not in data:
        merged.pop("name", None)  # a derived file is not its base
    return merged


def _parse_set(item: str) -> tuple[list[str], Any]:
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"--set {item!r}: expected key.path=value, for example --set neck.out_channels=128"
        )
    try:
        value = parse_yaml(text, f"--set {key}") if text.strip() else None
    except ConfigError as err:
        raise ConfigError(f"{err} (quote the value for the shell)") from None
    return key.split("."), value


def apply_overrides(raw: dict[str, Any], items: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set key.path=value`` items; values are YAML (``128``, ``[C3, C4]``, ``null``).

    >>> apply_overrides({"neck": {"out_channels": 256}}, ["neck.out_channels=128"])
    {'neck': {'out_channels': 128}}
    """
    out = copy.deepcopy(raw)
    for item in items:
        path, value = _parse_set(item)
        node: Any = out
        for depth, part in enumerate(path[:-1]):
            node = _step(node, part, path[: depth + 1], item, create=True)
        last = path[-1]
        if isinstance(node, list):
            index = _index(node, last, item)
            node[index] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ConfigError(f"--set {item!r}: '{'.'.join(path[:-1])}' is not a section")
    return out


def _step(node: Any, part: str, where: list[str], item: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, item)]
    if not isinstance(node, dict):
        raise ConfigError(f"--set {item!r}: '{'.'.join(where[:-1])}' is not a section")
    if part not in node or node[part] is None:
        if not create:
            raise ConfigError(f"--set {item!r}: no key '{'.'.join(where)}'")
        node[part] = {}
    return node[part]


def _index(node: list[Any], part: str, item: str) -> int:
    try:
        index = int(part)
        node[index]  # noqa: B018 - bounds check
    except (ValueError, IndexError):
        raise ConfigError(
            f"--set {item!r}: '{part}' is not an index of a list of {len(node)} items"
        ) from None
    return index


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration and where it came from."""

    config: PresetConfig
    source: Source

    @property
    def name(self) -> str:
        """The preset's own name, else the file's stem."""
        return self.config.name or self.source.path.stem


def load_config(
    target: str,
    overrides: Sequence[str] = (),
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    origins: Sequence[str] | None = None,
) -> LoadedConfig:
    """Load a bundled preset by name or a YAML file by path, then apply ``--set`` overrides
    (and ``transform``, which compare uses to swap the neck kind). A key an override set that
    fails validation is blamed on that override, named by ``origins`` (``--set`` by default).

    >>> load_config("synthetic_fpn", ["neck.out_channels=128"]).config.neck.out_channels
    128
    """
    from fpnscope.config.validate import validate  # pydantic is imported only when validating

    source = resolve(target)
    raw = load_raw(source)
    if transform is not None:
        raw = transform(raw)
    raw = apply_overrides(raw, overrides)
    try:
        return LoadedConfig(validate(raw, source.label), source)
    except ConfigError as err:
        raise ConfigError(_blame_overrides(str(err), source.label, overrides, origins)) from None


def _blame_overrides(message: str, label: str, overrides: Sequence[str], origins: Sequence[str] | None) -> str:
    """Add '(from --set key=value)' to each problem at a key an override set.

    >>> _blame_overrides("x: neck.foo: unknown key 'foo'", "x", ["neck.foo=1"], None)
    "x: neck.foo: unknown key 'foo' (from --set neck.foo=1)"
    """
    lines = []
    for line in message.splitlines():
        path = line.removeprefix(f"{label}: ").split(":", 1)[0].strip()
        for i, item in enumerate(overrides):
            key = item.split("=", 1)[0].strip()
            if key == path or path.startswith(f"{key}.") or key.startswith(f"{path}."):
                line += f" (from {origins[i] if origins else '--set'} {item.strip()})"
                break
        lines.append(line)
    return "\n".join(lines)
