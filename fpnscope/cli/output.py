"""Writing a report: the format from the options, atomic files, SVG and text copies of the view."""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from fpnscope.errors import ConfigError

FORMATS = ("table", "json", "csv", "markdown", "svg")
_BY_SUFFIX = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".svg": "svg", ".txt": "table"}


def console(stderr: bool = False) -> Any:
    """A rich console (rich is imported only when something is drawn)."""
    from rich.console import Console

    class PipeAware(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1, which here means "findings": let the CLI's edge end with 141
            raise BrokenPipeError("the reader of the output went away")

    return PipeAware(stderr=stderr, highlight=False)


def resolve_format(fmt: str | None, as_json: bool, output: str | None) -> str:
    """The output format from --format, --json and --output's extension, in that order."""
    if output is not None and os.path.isdir(output):
        raise ConfigError(f"--output {output}: is a folder; name a file in it (such as {os.path.join(output, 'report.json')})")
    if as_json:
        if fmt not in (None, "json"):
            raise ConfigError(f"--json and --format {fmt} disagree; give one of them")
        return "json"
    if fmt is not None:
        if fmt not in FORMATS or fmt == "svg":
            raise ConfigError(f"--format {fmt!r}: use table, json, csv or markdown (--output FILE.svg for a picture)")
        return fmt
    if output is not None:
        suffix = os.path.splitext(output)[1].lower()
        if suffix not in _BY_SUFFIX:
            raise ConfigError(f"--output {output}: say the format with --format, or end the name in .json .csv .md .txt or .svg")
        return _BY_SUFFIX[suffix]
    return "table"


def write_out(path: str, text: str) -> None:
    """Write ``text`` to ``path``: a regular file (or a new one, or the file a symlink names)
    atomically; anything else (a FIFO, ``/dev/stdout``, a device) straight, as a shell would."""
    try:
        mode: int | None = os.stat(path).st_mode  # through symlinks, to what the path names
    except OSError:
        mode = None  # nothing there yet (or a dangling link): a new regular file
    if mode is not None and not stat.S_ISREG(mode):
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as err:
            raise ConfigError(f"--output {path}: cannot write: {err.strerror}") from None
        return
    # a symlink is followed to the file it names, which is replaced; the link stays
    write_atomic(os.path.realpath(path) if os.path.islink(path) else path, text, shown=path)


def write_atomic(path: str, text: str, shown: str | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    shown = shown or path
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"--output {shown}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fpnscope-", suffix=".tmp")
    except OSError as err:
        raise ConfigError(f"--output {shown}: cannot write in {folder}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as a plain open() would create it, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException as err:
        os.unlink(tmp)
        if isinstance(err, OSError):
            raise ConfigError(f"--output {shown}: cannot write: {err.strerror}") from None
        raise


def piped(drawn: Any) -> str:
    """The terminal view for a pipe or a file: as wide as its widest table needs (or ``COLUMNS``,
    when set), with no trailing spaces."""
    from rich.console import Console, Group
    from rich.table import Table

    from fpnscope.render.fit import Fit, natural_width

    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    if width is None:
        probe = Console(width=1 << 12, file=io.StringIO())
        parts = drawn.renderables if isinstance(drawn, Group) else [drawn]
        tables = [p for p in parts if isinstance(p, (Table, Fit))]
        width = max([100, *(natural_width(probe, t) for t in tables)])
    recorder = Console(record=True, width=width, file=io.StringIO(), highlight=False)
    recorder.print(drawn)
    return "\n".join(line.rstrip() for line in recorder.export_text().splitlines()) + "\n"


def emit(fmt: str, output: str | None, report: Any, title: str, view: Callable[[], Any] | None = None) -> None:
    """Print or write ``report`` in ``fmt``: its JSON document, its plain tables as CSV or Markdown,
    or its terminal view (``view``, else the report's own), on stdout or as a text or SVG file."""
    from fpnscope.render.exports import tables_of
    from fpnscope.render.plain import to_csv, to_markdown

    if fmt == "json":
        text = report.to_json() + "\n"
    elif fmt == "csv":
        text = to_csv(tables_of(report))
    elif fmt == "markdown":
        text = to_markdown(tables_of(report), title)
    else:
        drawn = view() if view is not None else report.__rich__()
        if output is None:
            screen = console()
            if screen.is_terminal:
                screen.print(drawn)
                return
            text = piped(drawn)
        from rich.console import Console

        if fmt == "svg":
            recorder = Console(record=True, width=100, file=io.StringIO(), force_terminal=True, highlight=False)
            recorder.print(drawn)
            text = recorder.export_svg(title=title)
        else:
            text = piped(drawn)
    if output is None:
        sys.stdout.write(text)
    else:
        write_out(output, text)
        print(f"wrote {output}", file=sys.stderr)
