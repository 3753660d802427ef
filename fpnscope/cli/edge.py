"""The one place where errors become exit codes and messages on stderr.

``0`` ran with no error-level finding; ``1`` ran and found something (a finding, a failed variant,
a budget exceeded); ``2`` bad input, as one message naming the option, file or key and the fix;
``3`` a bug of ours; ``130`` interrupted; ``141`` the reader of the output went away.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from fpnscope.errors import FpnscopeError

EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 3, 130, 141

# options whose flag is not the parameter's name with dashes
_FLAGS = {"necks": "--neck", "variants": "--variant", "input": "--input", "inputs": "--input", "set": "--set"}


def flag(option: str) -> str:
    """How the command line spells an option the library names: ``allow_python`` -> ``--allow-python``.

    >>> flag("allow_python"), flag("necks")
    ('--allow-python', '--neck')
    """
    return _FLAGS.get(option, "--" + option.replace("_", "-"))


def say(message: str) -> None:
    """One line (or a few) on stderr."""
    print(message, file=sys.stderr)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the project's errors into one message on stderr and exit code 2, never a traceback."""
    try:
        yield
        sys.stdout.flush()  # so that a closed pipe shows up here, not later in click's handler
    except FpnscopeError as err:
        for line in err.render(flag).splitlines():  # a file's every problem, one line each
            say(f"error: {line}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        say("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly with the shell's code for SIGPIPE, and point
        # stdout at /dev/null so that Python's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as err:  # a bug of ours: say so plainly
        if os.environ.get("FPNSCOPE_DEBUG"):
            raise
        say(f"internal error: {type(err).__name__}: {err}\n"
            "This is a bug in fpnscope; run again with FPNSCOPE_DEBUG=1 for the traceback.")
        raise typer.Exit(EXIT_INTERNAL) from None


def interrupted(signum: int, frame: Any) -> None:
    """SIGINT: a SystemExit (not a KeyboardInterrupt, which click would turn into "Aborted!" and
    exit 1) unwinds the run and leaves with the conventional code for Ctrl-C."""
    say("interrupted")
    raise SystemExit(EXIT_INTERRUPTED)


@contextmanager
def interruptible() -> Iterator[None]:
    """Within: Ctrl-C raises KeyboardInterrupt, which a sweep catches to stop and keep the points it
    measured; outside, it ends the run at once (see :func:`interrupted`)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread handles signals
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def collect_cycles() -> None:
    """Turn the cycle collector back on for a long run on a real device, where cycles may hold
    device memory; what is already loaded is frozen so that collections skip it."""
    gc.freeze()
    gc.enable()
