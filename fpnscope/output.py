"""Writing a report: the format from the options, atomic files, SVG and text copies of the view."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from fpnscope.errors import ConfigError

FORMATS = ("table", "json", "csv", "markdown", "svg")


def console(stderr: bool = False) -> Any:
    """A rich console (rich is imported only when something is drawn)."""
    from rich.console import Console

    drawn = Console(stderr=stderr, highlight=False)
    drawn.on_broken_pipe = _broken_pipe  # rich would exit 1, which here means "findings"
    return drawn


def _broken_pipe() -> None:
    raise BrokenPipeError("the reader of the output went away")


def lazy(module: str, name: str) -> Any:
    """``fpnscope.<module>.<name>``, imported when used: rich is not needed to print JSON."""
    return getattr(importlib.import_module(f"fpnscope.{module}"), name)


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
        by_suffix = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".svg": "svg", ".txt": "table"}
        if suffix not in by_suffix:
            raise ConfigError(f"--output {output}: say the format with --format, or end the name in .json .csv .md .txt or .svg")
        return by_suffix[suffix]
    return "table"


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    import tempfile

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


def emit(
    fmt: str,
    output: str | None,
    data: Callable[[], Any],
    tables: Callable[[], Any],
    draw: Callable[[Any], None],
    title: str,
) -> None:
    """Print or write a report in ``fmt``: JSON from ``data``, CSV and Markdown from ``tables``,
    the terminal view (and its SVG or text copy) from ``draw``."""
    if fmt == "json":
        text = json.dumps(data(), indent=2) + "\n"
    elif fmt == "csv":
        text = lazy("render_plain", "to_csv")(tables())
    elif fmt == "markdown":
        text = lazy("render_plain", "to_markdown")(tables(), title)
    elif output is None:
        draw(console())
        return
    else:
        import io

        from rich.console import Console

        recorder = Console(record=True, width=100, file=io.StringIO(), force_terminal=fmt == "svg", highlight=False)
        draw(recorder)
        text = recorder.export_svg(title=title) if fmt == "svg" else recorder.export_text()
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        print(f"wrote {output}", file=sys.stderr)
