"""A progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fpnscope.cli.output import console


@contextmanager
def progress(verb: str = "profiling") -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar fed with (done, total, label); a no-op off a terminal."""
    err = console(stderr=True)
    if not err.is_terminal:  # rich would still print a blank line when it stops
        yield lambda done, total, label: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(verb + " {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )
    task = bar.add_task("", total=None)

    def update(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, description=label)

    with bar:
        yield update
