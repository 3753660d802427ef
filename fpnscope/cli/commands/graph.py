"""``fpnscope graph TARGET``."""

from __future__ import annotations

import typer

from fpnscope.cli.args import parse_sets
from fpnscope.cli.edge import EXIT_FINDINGS, cli_errors
from fpnscope.cli.options import AllowPythonOpt, BatchOpt, FormatOpt, InputOpt, JsonOpt, OutputOpt, SetOpt, TargetArg
from fpnscope.cli.output import emit, resolve_format


def graph(
    target: TargetArg,
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = None,
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The neck's dataflow as a picture.

    Input levels, lateral, top-down and bottom-up paths, fusion nodes and output levels.

    Derived from the built module's forward on meta tensors, so it is right for every neck,
    a user's own included. Exit code 1 when the neck's forward raised (the failing op is marked).
    """
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        from fpnscope import api

        report = api.graph(target, input=size, batch=batch, set=parse_sets(sets), allow_python=allow_python)
        emit(fmt, output, report, f"fpnscope graph {report.model}")
    if report.error is not None:  # a crash in the neck is a finding about the model, as in inspect
        raise typer.Exit(EXIT_FINDINGS)
