"""'Did you mean' suggestions for misspelt names and keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str], n: int = 3) -> list[str]:
    """The options closest to ``word``, best first (case-insensitive).

    >>> closest("out_chanels", ["in_channels", "out_channels", "upsample"])
    ['out_channels', 'in_channels']
    """
    by_lower: dict[str, str] = {}
    for option in options:
        by_lower.setdefault(option.lower(), option)
    hits = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[h] for h in hits]


def did_you_mean(word: str, options: Iterable[str], n: int = 3) -> str:
    """A ready sentence fragment such as ``"did you mean 'fpn'?"``, or ``""``."""
    hits = closest(word, options, n)
    if not hits:
        return ""
    return "did you mean " + " or ".join(f"'{h}'" for h in hits) + "?"
