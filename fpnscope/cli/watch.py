"""``inspect --watch``: the edit loop. torch stays loaded; the report is redrawn whenever the YAML,
a ``_base_`` of it, or the Python file of a ``python`` kind is saved (the module imported again).

On a terminal each report replaces the last; piped, each is followed by one line saying when it was
drawn and how long it took, so a script (or a benchmark) can tell reports apart.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fpnscope import api
from fpnscope.cli.edge import flag
from fpnscope.cli.output import console
from fpnscope.errors import FpnscopeError

POLL_S = 0.05  # how often the files are looked at: well under the time a report takes


def _stamps(files: list[Path]) -> dict[Path, float]:
    out: dict[Path, float] = {}
    for path in files:
        try:
            out[path] = path.stat().st_mtime_ns
        except OSError:
            out[path] = -1  # deleted (an editor saving by rename): a change too
    return out


def watch(target: str, draw: Callable[[Any], Any], **how: Any) -> None:
    """Inspect ``target`` with ``how`` (api.inspect's keywords), draw it, and again on every save,
    until interrupted. A bad edit shows its error and the loop waits for the next save."""
    out = console()
    files: list[Path] = [Path(target).resolve()] if Path(target).is_file() else []
    while True:
        started = time.perf_counter()
        load = {k: how[k] for k in ("set", "input", "batch") if k in how}
        try:
            loaded = api.load(target, **load)
            report = api.inspect(loaded, **{k: v for k, v in how.items() if k not in load})
            files = api.watched_files(loaded)
            shown: Any = draw(report)
        except FpnscopeError as err:
            from rich.text import Text

            shown = Text(f"error: {err.render(flag)}", style="bold red")
        if out.is_terminal:
            out.clear()
        out.print(shown)
        took = time.perf_counter() - started
        out.print(f"── watching {len(files)} file{'s' if len(files) != 1 else ''} · drawn at "
                  f"{time.strftime('%H:%M:%S')} in {took:.2f} s · Ctrl-C to stop", style="dim", highlight=False)
        sys.stdout.flush()
        before = _stamps(files)
        while _stamps(files) == before:
            time.sleep(POLL_S)
        api.forget_modules(files)  # the next import reads the file as saved
