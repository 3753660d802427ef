"""Writing a report: the format from the options, atomic files, SVG and text copies of the view."""

from __future__ import annotations

import io
import os
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


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"--output {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fpnscope-", suffix=".tmp")
    except OSError as err:
        raise ConfigError(f"--output {path}: cannot write in {folder}: {err.strerror}") from None
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
            raise ConfigError(f"--output {path}: cannot write: {err.strerror}") from None
        raise


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
            console().print(drawn)
            return
        from rich.console import Console

        recorder = Console(record=True, width=100, file=io.StringIO(), force_terminal=fmt == "svg", highlight=False)
        recorder.print(drawn)
        text = recorder.export_svg(title=title) if fmt == "svg" else recorder.export_text()
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        print(f"wrote {output}", file=sys.stderr)
