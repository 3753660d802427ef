"""A progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fpnscope.cli.output import console


@contextmanager
def progress(verb: str = "profiling", unit: str | None = None) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar fed with (done, total, label); with ``unit`` (``"point"``) it also shows the
    time per item and the time left. A no-op off a terminal."""
    err = console(stderr=True)
    if not err.is_terminal:  # rich would still print a blank line when it stops
        yield lambda done, total, label: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn(verb + " {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if unit is not None:
        columns += [TextColumn("{task.fields[pace]}"), TextColumn("ETA"), TimeRemainingColumn()]
    bar = Progress(*columns, console=err, transient=True)
    task = bar.add_task("", total=None, pace="")
    start: float | None = None  # when the first item began: the imports before it are no item's time

    def update(done: int, total: int, label: str) -> None:
        nonlocal start
        start = time.monotonic() if start is None else start
        pace = f"{(time.monotonic() - start) / done:.2f} s/{unit}" if unit is not None and done else ""
        bar.update(task, completed=done, total=total, description=label, pace=pace)

    with bar:
        yield update
