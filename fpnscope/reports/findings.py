"""Findings as data: what is wrong at which level (the facts), and typed fixes.

The prose (``message``, ``hint``) is written from the facts and fixes in one place,
``fpnscope.analysis.diagnose.prose``; nothing reads it back. A fix that is mechanical carries the
YAML keys that apply it, and all of a report's fixes merge into one corrected fragment.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class SetKeys:
    """Write these YAML keys (a nested mapping, as in a preset file)."""

    keys: Mapping[str, Any]
    kind: Literal["set-keys"] = "set-keys"

    @property
    def patch(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.keys))


@dataclass(frozen=True)
class PadInput:
    """Pad the input to ``height`` × ``width``, multiples of ``multiple``: every level lines up."""

    height: int
    width: int
    multiple: int
    kind: Literal["pad-input"] = "pad-input"

    @property
    def patch(self) -> dict[str, Any]:
        return {"input": {"height": self.height, "width": self.width}}


@dataclass(frozen=True)
class MinInput:
    """Use an input of at least ``side`` pixels a side (here ``height`` × ``width``)."""

    side: int
    height: int
    width: int
    kind: Literal["min-input"] = "min-input"

    @property
    def patch(self) -> dict[str, Any]:
        return {"input": {"height": self.height, "width": self.width}}


@dataclass(frozen=True)
class SetInput:
    """Use the input ``height`` × ``width``: found by trying the sizes around the one given."""

    height: int
    width: int
    kind: Literal["set-input"] = "set-input"

    @property
    def patch(self) -> dict[str, Any]:
        return {"input": {"height": self.height, "width": self.width}}


@dataclass(frozen=True)
class EditCode:
    """Change a line of the user's code: ``code`` is what to write there, ``why`` says why. Not
    mechanical: it carries no YAML keys."""

    file: str
    line: int
    code: str
    why: str
    imports: str | None = None  # the import ``code`` needs that the file lacks
    kind: Literal["edit-code"] = "edit-code"

    @property
    def patch(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class BuildWith:
    """Build the layer ``module`` with ``changes`` to its arguments (``{"ceil_mode": True}``): ``code``
    is the call to write at ``file``:``line``, where it is built, and ``layers`` every module that call
    builds (``neck.down.0``, ``neck.down.1``... when ``module`` is ``neck.down``). Proposed only once
    the forward ran with them so changed. Not mechanical: it carries no YAML keys."""

    module: str
    layers: tuple[str, ...]
    changes: Mapping[str, Any]
    file: str | None  # None: the line that builds it was not found (built by a helper)
    line: int | None
    code: str
    kind: Literal["build-with"] = "build-with"

    @property
    def patch(self) -> dict[str, Any]:
        return {}


Fix = SetKeys | PadInput | MinInput | SetInput | EditCode | BuildWith
INPUT_FIXES = (PadInput, MinInput, SetInput)


@dataclass(frozen=True)
class Finding:
    """One diagnostic: its check (``code``, and ``check``: which of the code's checks), where, the
    facts it found, its fixes, and the sentences written from them."""

    severity: Severity
    code: str
    level: str | None
    message: str
    hint: str
    fixes: tuple[Fix, ...] = ()
    check: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""  # the message without its details, where a layout shows them apart (a crash)

    @property
    def fix(self) -> dict[str, Any] | None:
        """The YAML keys to write, when the fix is mechanical."""
        return merge_patches(f.patch for f in self.fixes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity, "code": self.code, "level": self.level, "message": self.message,
            "hint": self.hint, "fix": self.fix, "check": self.check, "facts": _plain(self.facts),
            "fixes": [_plain(asdict(f)) for f in self.fixes],
        }


def _plain(value: Any) -> Any:
    """Tuples and mappings as JSON lists and dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def merge_patches(patches: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One YAML patch from several: mappings merge, numbers take the larger value (a padded input
    that satisfies the coarsest multiple satisfies the finer ones), lists replace.

    >>> merge_patches([{"input": {"height": 800, "width": 1344}}, {"input": {"height": 832, "width": 1344}}])
    {'input': {'height': 832, 'width': 1344}}
    """

    def merge(into: dict[str, Any], patch: Mapping[str, Any]) -> None:
        for key, value in patch.items():
            old = into.get(key)
            if isinstance(old, dict) and isinstance(value, Mapping):
                merge(old, value)
            elif isinstance(old, int) and isinstance(value, int) and not isinstance(value, bool):
                into[key] = max(old, value)
            else:
                into[key] = copy.deepcopy(value)

    merged: dict[str, Any] = {}
    for patch in patches:
        merge(merged, patch)
    return merged or None


def merge_fixes(findings: Iterable[Finding]) -> dict[str, Any] | None:
    """The corrected YAML fragment of every finding's fixes."""
    return merge_patches(f.patch for finding in findings for f in finding.fixes)
