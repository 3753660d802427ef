"""``fpnscope inspect TARGET``."""

from __future__ import annotations

from typing import Annotated

import typer

from fpnscope.cli.args import parse_sets
from fpnscope.cli.edge import EXIT_FINDINGS, cli_errors, collect_cycles
from fpnscope.cli.options import AllowPythonOpt, BatchOpt, FormatOpt, InputOpt, JsonOpt, OutputOpt, SetOpt, TargetArg
from fpnscope.cli.output import emit, resolve_format
from fpnscope.errors import ConfigError


def inspect(
    target: TargetArg,
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = None,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="meta (shapes only, instant), cpu, cuda[:N] or mps.")] = "meta",
    depth: Annotated[int, typer.Option(min=0, metavar="N", help="Per-module breakdown down to this depth (1 = stages).")] = 0,
    flops_backend: Annotated[
        str, typer.Option(metavar="NAME", help="torch (fpnscope's own count) or fvcore (also cross-check on a real CPU forward).")
    ] = "torch",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")] = False,
    watch_: Annotated[bool, typer.Option("--watch", help="Redraw the report whenever the YAML, a _base_ of it or a python kind's file is saved; Ctrl-C stops.")] = False,
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Levels, costs and alignment diagnostics of a model.

    Every pyramid level (name, shape, stride, channels, the inputs that fed it), parameters, MACs
    and FLOPs per stage and per level, estimated memory, and the diagnostics with their fixes.

    Exit code 0: no errors found; 1: alignment errors found (or warnings, with --strict); 2: bad input.
    """
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        if device != "meta":
            collect_cycles()
        if watch_:
            if fmt != "table" or output is not None:
                raise ConfigError("--watch redraws the terminal view: it takes no --json, --format or --output")
            from fpnscope.cli.watch import watch
            from fpnscope.render.inspect import view

            watch(target, lambda report: view(report, strict), input=size, batch=batch, set=parse_sets(sets),
                  device=device, depth=depth, flops_backend=flops_backend, allow_python=allow_python)
        from fpnscope import api

        report = api.inspect(target, input=size, batch=batch, set=parse_sets(sets), device=device, depth=depth,
                             flops_backend=flops_backend, allow_python=allow_python)
        from fpnscope.render.inspect import view

        emit(fmt, output, report, f"fpnscope inspect {report.model.name}", lambda: view(report, strict))
    if report.has_errors or (strict and report.has_warnings):
        raise typer.Exit(EXIT_FINDINGS)
