"""Reading saved reports: documents written by earlier versions are brought to today's layout.

Version 1 (fpnscope 0.1.0) had no ``schema_version`` key; its keys are today's, minus the ones
added since (``check``, ``facts`` and ``fixes`` of a finding), which are filled in.
"""

from __future__ import annotations

from typing import Any

from fpnscope.reports.common import SCHEMA_VERSION


def schema_version(document: dict[str, Any]) -> int:
    """The layout version of a saved document (1 when it predates the key).

    >>> schema_version({"tool": {"command": "inspect"}}), schema_version({"schema_version": 2})
    (1, 2)
    """
    version = document.get("schema_version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def upgrade_inspect(document: dict[str, Any]) -> dict[str, Any]:
    """A saved ``inspect`` document in today's layout (a copy; the input is left as it is).

    >>> upgrade_inspect({"diagnostics": [{"code": "x", "fix": None}]})["diagnostics"][0]["fixes"]
    []
    """
    out = dict(document)
    if schema_version(document) < 2:
        out["diagnostics"] = [
            {"check": "", "facts": {}, "fixes": [], **finding} for finding in document.get("diagnostics", [])
        ]
        out.setdefault("level_costs", [])
        out.setdefault("memory", None)
    out["schema_version"] = SCHEMA_VERSION
    return out
