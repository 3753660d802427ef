"""The Typer application: the commands, ``--version``, and the entry point."""

from __future__ import annotations

import gc
import signal
from typing import Annotated

import typer

from fpnscope._version import __version__
from fpnscope.cli.commands.compare import compare
from fpnscope.cli.commands.graph import graph
from fpnscope.cli.commands.inspect import inspect
from fpnscope.cli.commands.presets import presets_app, schema
from fpnscope.cli.commands.profile import profile
from fpnscope.cli.commands.sweep import sweep
from fpnscope.cli.edge import interrupted

app = typer.Typer(
    name="fpnscope",
    help="Inspect, cost and compare feature-pyramid vision models (backbone -> neck -> head).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click help and errors: rich's help formatter alone costs more than importing typer
    rich_markup_mode=None,
)
for command in (inspect, profile, compare, sweep, graph):
    app.command()(command)
app.add_typer(presets_app, name="presets")
app.command()(schema)


def _version(value: bool) -> None:
    if value:
        print(f"fpnscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Inspect, cost and compare feature-pyramid vision models (backbone -> neck -> head)."""


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGINT, interrupted)
    # A run is short and mostly imports: torch, torchvision and timm create millions of objects,
    # and every full collection rescans them all, about a fifth of an `inspect` here. An analysis
    # on meta holds no device memory and leaves little cyclic garbage, so the collector stays off;
    # the commands that run a real device call collect_cycles.
    gc.disable()
    app()
