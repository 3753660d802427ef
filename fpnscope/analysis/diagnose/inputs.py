"""One corrected input for every finding whose fix changes the input."""

from __future__ import annotations

from fpnscope.analysis.diagnose.alignment import padded_input
from fpnscope.analysis.diagnose.prose import rewrite
from fpnscope.reports.findings import INPUT_FIXES, Finding, Fix, MinInput, PadInput


def one_input(findings: list[Finding]) -> list[Finding]:
    """Make every finding that fixes the input name the same one, the smallest that clears them
    all: the largest multiple any of them pads to, at least the largest size any of them asks for.

    >>> from fpnscope.analysis.diagnose.prose import finding
    >>> a = finding("rounding", "warning", "P6", {"down": ["C5"], "up": ["P6"]}, [PadInput(800, 1344, 32)])
    >>> b = finding("too-small", "warning", "P7", {"level": "P7", "size": [1, 2], "stride": 512,
    ...             "input": [800, 1333]}, [MinInput(1024, 1024, 1333)])
    >>> [f.fix["input"] for f in one_input([a, b])]
    [{'height': 1024, 'width': 1344}, {'height': 1024, 'width': 1344}]
    >>> one_input([a, b])[0].hint
    'pad the input to 1024x1344 (a multiple of 32) and every level lines up'
    """
    fixes = [f for finding in findings for f in finding.fixes if isinstance(f, INPUT_FIXES)]
    if len(fixes) < 2:
        return findings
    multiple = max((f.multiple for f in fixes if isinstance(f, PadInput)), default=1)
    height, width = padded_input(max(f.height for f in fixes), max(f.width for f in fixes), multiple)

    def same_input(fix: Fix) -> Fix:
        if isinstance(fix, PadInput):
            return PadInput(height, width, multiple)
        if isinstance(fix, MinInput):
            return MinInput(fix.side, height, width)
        return fix

    return [rewrite(f, [same_input(fix) for fix in f.fixes]) if any(isinstance(x, INPUT_FIXES) for x in f.fixes)
            else f for f in findings]
