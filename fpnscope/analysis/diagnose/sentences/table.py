"""A table of writers: for each check, its code and the function that writes its message and hint,
and, where a layout shows the details apart, the message without them (its title)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fpnscope.reports.findings import Fix

Facts = Mapping[str, Any]
Writer = Callable[[Facts, Sequence[Fix]], tuple[str, str]]
Title = Callable[[Facts], str]


class Writers:
    """Writers registered by decorating them: ``@WRITERS("in-channels", "channel-mismatch")``."""

    def __init__(self) -> None:
        self.writers: dict[str, tuple[str, Writer]] = {}  # check -> (code, writer)
        self.titles: dict[str, Title] = {}

    def __call__(self, check: str, code: str) -> Callable[[Writer], Writer]:
        def add(fn: Writer) -> Writer:
            self.writers[check] = (code, fn)
            return fn

        return add

    def title(self, check: str) -> Callable[[Title], Title]:
        def add(fn: Title) -> Title:
            self.titles[check] = fn
            return fn

        return add
