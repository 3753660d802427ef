"""Findings into sentences: the one place that puts a finding's message and hint together.

Each check reports its facts and typed fixes; :func:`finding` looks up the check's writer in
:mod:`~fpnscope.analysis.diagnose.sentences`. Nothing elsewhere writes, or reads back, a finding's
prose.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.analysis.diagnose.sentences import checks, crash
from fpnscope.analysis.diagnose.sentences.table import Facts
from fpnscope.reports.findings import Finding, Fix, Severity

_WRITERS = {**checks.WRITERS.writers, **crash.WRITERS.writers}
_TITLES = {**checks.WRITERS.titles, **crash.WRITERS.titles}


def finding(check: str, severity: Severity, level: str | None, facts: Facts, fixes: Sequence[Fix] = ()) -> Finding:
    """A finding of ``check`` with its sentences written from ``facts`` and ``fixes``.

    >>> finding("in-channels", "error", "C5", {"index": 0, "declared": 1024, "level": "C5", "channels": 2048}).message
    "neck.in_channels[0] says 1024 but the backbone's C5 has 2048 channels"
    """
    code, write = _WRITERS[check]
    message, hint = write(facts, fixes)
    title = _TITLES[check](facts) if check in _TITLES else ""
    return Finding(severity, code, level, message, hint, tuple(fixes), check, dict(facts), title)


def rewrite(found: Finding, fixes: Sequence[Fix]) -> Finding:
    """The same finding with other fixes (its hint rewritten to match)."""
    return finding(found.check, found.severity, found.level, found.facts, fixes)
