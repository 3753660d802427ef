"""Loading a preset: a name, a path or a plain dict, ``_base_`` inheritance, overrides, validation.

Merging and overriding work on plain dicts (no pydantic), so ``presets list`` can read
descriptions without paying for validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fpnscope.config.overrides import Override, apply_overrides
from fpnscope.config.presets import preset_names, preset_path
from fpnscope.config.yamlio import read_yaml_file
from fpnscope.errors import BuildError, ConfigError
from fpnscope.suggest import did_you_mean

MAX_BASE_DEPTH = 16

if TYPE_CHECKING:
    from fpnscope.config.schema import PresetConfig


@dataclass(frozen=True)
class Source:
    """Where a configuration came from: a bundled preset, a file, or a document given in code."""

    label: str  # what error messages call it: a preset name, a path, or "<dict>"
    path: Path | None
    bundled: bool

    @property
    def folder(self) -> Path:
        """Where relative ``_base_`` paths and a ``python`` kind's module are looked up."""
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def base_dir(self) -> Path | None:
        """The folder of a user's file (None for bundled presets, whose code is the package's)."""
        return None if self.bundled else self.folder


DICT_SOURCE = Source("<dict>", None, bundled=False)


def looks_like_path(target: str) -> bool:
    """A target naming a file rather than a bundled preset."""
    return target.endswith((".yaml", ".yml")) or "/" in target or "\\" in target


def resolve(target: str | Path, relative_to: Path | None = None, paths: bool = True) -> Source:
    """Turn a preset name or a path into a Source; an unknown name gets the closest names (and,
    where ``paths`` are accepted, the reminder that a file works too)."""
    text = str(target)
    if isinstance(target, Path) or looks_like_path(text) or (relative_to is None and Path(text).is_file()):
        path = Path(text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return Source(label=str(path), path=path, bundled=False)
    found = preset_path(text)
    if found is None:
        hint = did_you_mean(text, preset_names())
        raise ConfigError(
            f"unknown preset '{text}'"
            + (f"; {hint}" if hint else "")
            + (" (see `fpnscope presets list`, or give a path to a .yaml file)" if paths else " (see `fpnscope presets list`)"),
            choices=preset_names(),
        )
    return Source(label=text, path=found, bundled=True)


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


def load_raw(source: Source, document: Any = None, _chain: tuple[Path, ...] = (),
             files: list[Path] | None = None) -> dict[str, Any]:
    """The merged document of ``source`` (read from its file, or ``document`` when given in code)
    with its ``_base_`` chain resolved; ``files`` collects every file read."""
    if source.path is not None:
        resolved = source.path.resolve()
        if resolved in _chain:
            cycle = " -> ".join(str(p) for p in (*_chain, resolved))
            raise ConfigError(f"{source.label}: _base_ inheritance loops: {cycle}", file=source.label)
        if len(_chain) >= MAX_BASE_DEPTH:
            raise ConfigError(f"{source.label}: _base_ chain deeper than {MAX_BASE_DEPTH} files", file=source.label)
        _chain = (*_chain, resolved)
        document = read_yaml_file(source.path)
        if files is not None:
            files.append(resolved)
    if document is None:
        raise ConfigError(f"{source.label}: the file is empty; a preset needs backbone: and neck:", file=source.label)
    if not isinstance(document, dict):
        raise ConfigError(
            f"{source.label}: the top level must be a mapping (backbone:, neck:, ...), "
            f"not a {type(document).__name__}",
            file=source.label,
        )
    data = copy.deepcopy(document)
    base_ref = data.pop("_base_", None)
    if base_ref is None:
        return data
    if not isinstance(base_ref, str) or not base_ref:
        raise ConfigError(f"{source.label}: _base_ must be a preset name or a relative path", file=source.label, key="_base_")
    try:
        base_source = resolve(base_ref, relative_to=source.folder)
    except ConfigError as err:
        raise ConfigError(f"{source.label}: _base_: {err.template}", file=source.label, key="_base_") from None
    merged = deep_merge(load_raw(base_source, _chain=_chain, files=files), data)
    if "name" not in data:
        merged.pop("name", None)  # a derived file is not its base
    return merged


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration, where it came from, and the document it was validated from
    (so that it can be loaded again with more overrides)."""

    config: PresetConfig
    source: Source
    raw: dict[str, Any] = field(repr=False, compare=False)
    overrides: tuple[Override, ...] = ()
    files: tuple[Path, ...] = ()  # the YAML files read: the file itself and its _base_ chain

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """A BuildError raised while its model is built names this file, as a ConfigError does."""
        try:
            yield
        except BuildError as err:
            if err.file is not None or self.source.path is None:
                raise
            raise BuildError(f"{self.source.label}: {err.template}", option=err.option, key=err.key,
                             file=self.source.label, choices=err.choices) from None

    @property
    def name(self) -> str:
        """The preset's own name, else the file's stem."""
        if self.config.name:
            return self.config.name
        return self.source.path.stem if self.source.path is not None else "model"


def load_config(
    target: str | Path | dict[str, Any] | LoadedConfig,
    overrides: Sequence[Override] = (),
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> LoadedConfig:
    """Load a bundled preset by name, a YAML file by path, a document given as a dict, or again a
    loaded configuration; then apply ``transform`` (compare swaps the neck kind with it) and the
    overrides. A problem at a key an override set names that override.

    >>> load_config("synthetic_fpn", [Override("neck.out_channels", 128)]).config.neck.out_channels
    128
    """
    from fpnscope.config.validate import validate  # pydantic is imported only when validating

    files: list[Path] = []
    if isinstance(target, LoadedConfig):
        source, raw, earlier, files = target.source, target.raw, target.overrides, list(target.files)
    elif isinstance(target, dict):
        source, raw, earlier = DICT_SOURCE, load_raw(DICT_SOURCE, target, files=files), ()
    else:
        source = resolve(target)
        raw, earlier = load_raw(source, files=files), ()
    if transform is not None:
        raw = transform(raw)
    raw = apply_overrides(raw, overrides)
    return LoadedConfig(validate(raw, source.label, overrides), source, raw, (*earlier, *overrides), tuple(files))
