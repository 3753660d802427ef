"""Object sizes against levels: a level that sees less than the objects it is given, and sizes the
configuration asks for (``head.object_sizes``) that no level receives."""

from __future__ import annotations

from fpnscope.analysis.diagnose.prose import finding
from fpnscope.reports.findings import Finding
from fpnscope.reports.sizes import ObjectSizes


def check_sizes(sizes: ObjectSizes | None) -> list[Finding]:
    """``receptive-field`` where a level's receptive field is smaller than the smallest object its
    rule gives it; ``size-coverage`` for each part of the wanted sizes no level receives.

    >>> from fpnscope.reports.sizes import Assignment, LevelRange
    >>> rule = Assignment("anchors", "anchors", "", [LevelRange("P7", 128, 362.0, 1149.4, "", 300)])
    >>> [f.message for f in check_sizes(ObjectSizes("retina", [rule], [], (16, 512)))][0]
    "P7's receptive field is 300 px, smaller than the smallest object it is given (362 px, by the anchors)"
    """
    if sizes is None:
        return []
    findings = []
    for rule in sizes.assignments:
        for lvl in rule.levels if rule.rule != "roi-level" else ():  # RoIAlign samples the whole box
            if lvl.receptive_field is not None and not lvl.receptive_global and lvl.receptive_field < lvl.low:
                findings.append(finding("receptive-field", "warning", lvl.level, {
                    "level": lvl.level, "receptive_field": lvl.receptive_field, "low": lvl.low,
                    "high": None if lvl.high == float("inf") else lvl.high, "assignment": rule.label}))
        if sizes.wanted is not None:
            gaps = rule.gaps(float(sizes.wanted[0]), float(sizes.wanted[1]))
            if gaps:
                findings.append(finding("size-coverage", "warning", None, {
                    "assignment": rule.label, "rule": rule.rule, "wanted": list(sizes.wanted),
                    "gaps": [[round(a, 1), round(b, 1)] for a, b in gaps]}))
    return findings
