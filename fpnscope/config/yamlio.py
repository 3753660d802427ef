"""Reading YAML safely: ``safe_load`` semantics (libyaml's when present), a size cap, and a cap
on the size a document reaches once its aliases are expanded.

PyYAML shares aliased nodes instead of copying them, so a "billion laughs" document loads in
little memory but explodes the moment anything walks it (merging, validation, printing). Measuring
its expanded size, once per shared part, refuses such documents before any of that happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fpnscope.errors import ConfigError

MAX_BYTES = 1_000_000
MAX_NODES = 100_000  # values once aliases are expanded; a preset has a few hundred
MAX_DEPTH = 50


class _NoDuplicates(yaml.constructor.SafeConstructor):
    """Safe loading that refuses a key given twice in one mapping (``{kind: fpn, kind: pafpn}``
    silently kept the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` merges, as YAML means it to
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the constructor says so itself
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice (first on line {first}); keep one",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


# libyaml parses presets ~7x faster; its loader exists only where PyYAML was built with it
_LOADER = type("_Loader", (_NoDuplicates, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {})


def expanded_size(value: Any, depth: int = 0, memo: dict[int, int] | None = None) -> int:
    """How many values ``value`` holds once shared (aliased) parts are counted every time they
    appear, computed once per shared part, so a billion laughs is measured in microseconds.

    >>> shared = [1, 2, 3]
    >>> expanded_size({"a": shared, "b": [shared, shared]})
    16
    """
    memo = {} if memo is None else memo
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if not isinstance(value, (dict, list)):
        return 1
    if id(value) in memo:
        return memo[id(value)]
    items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    size = 1 + sum(expanded_size(item, depth + 1, memo) for item in items)
    memo[id(value)] = size
    return size


def parse_yaml(text: str, origin: str) -> Any:
    """Parse one YAML document; errors name ``origin`` with line and column."""
    try:
        data = yaml.load(text, Loader=_LOADER)
        size = expanded_size(data)
    except RecursionError:
        raise ConfigError(f"{origin}: invalid YAML: nested too deeply") from None
    except ValueError as err:
        raise ConfigError(f"{origin}: invalid YAML: {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else origin
        problem = err.problem or err.context or "invalid YAML"
        if "could not determine a constructor" in str(err):
            problem = "tags such as !!python/object are not allowed (only plain YAML data)"
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{origin}: invalid YAML: {err}") from None
    if size > MAX_NODES:
        raise ConfigError(
            f"{origin}: the document expands to {size:,} values through its aliases (limit "
            f"{MAX_NODES:,}); a preset this large is refused"
        )
    return data


def read_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file with the size cap; every failure is a ConfigError naming it."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; give a YAML file or a preset name")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(f"{path}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for a preset")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; is this a YAML file?") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    return parse_yaml(text, str(path))
