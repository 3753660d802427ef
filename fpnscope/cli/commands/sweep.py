"""``fpnscope sweep TARGET --grid KEY=V1,V2,...``."""

from __future__ import annotations

from typing import Annotated

import typer

from fpnscope.cli.args import parse_list, parse_sets
from fpnscope.cli.edge import EXIT_FINDINGS, EXIT_INTERRUPTED, cli_errors, collect_cycles, interruptible, say
from fpnscope.cli.options import AllowPythonOpt, BatchOpt, FormatOpt, JsonOpt, OutputOpt, SetOpt, TargetArg
from fpnscope.cli.output import emit, resolve_format
from fpnscope.cli.progress import progress

METRIC_NAMES = "params, macs, flops, memory, latency or throughput"


def sweep(
    target: TargetArg,
    grid: Annotated[
        list[str], typer.Option("--grid", "-g", metavar="KEY=V1,V2,...", help="An axis of the design space: a key and its values (YAML, split at commas outside brackets: in_features=[C3, C4, C5],[C4, C5]). Bare keys are neck keys; neck.kind=fpn,bifpn swaps the neck as compare --neck does (out_channels is a BiFPN's width). Repeatable: the points are every combination.")
    ],
    size: Annotated[str | None, typer.Option("--input", "-i", metavar="HxW,...", help="Input sizes, comma-separated: 512,800x1333; two or more make one more axis. [default: the preset's]")] = None,
    batch: BatchOpt = None,
    sets: SetOpt = None,
    profile_: Annotated[bool, typer.Option("--profile", help="Also time each point with the profile harness (memory check first; a point that does not fit is recorded as oom).")] = False,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="Device for --profile: auto, cpu, cuda[:N] or mps.")] = "auto",
    pareto: Annotated[str, typer.Option("--pareto", metavar="M1,M2", help=f"The two metrics of the Pareto front (and of the scatter plot): {METRIC_NAMES}.")] = "macs,params",
    where: Annotated[list[str] | None, typer.Option("--where", "-w", metavar="CONSTRAINT", help="Keep the points that satisfy it, e.g. 'params<30M', 'macs<=100G', 'memory<2GiB', 'latency<20ms', 'throughput>30'. Repeatable; exit 1 when no point keeps them all.")] = None,
    metric: Annotated[str | None, typer.Option("--metric", metavar="METRIC", help="Pick the best point on this metric (and draw its bars). [default: the first --pareto metric]")] = None,
    sort: Annotated[str | None, typer.Option("--sort", metavar="METRIC", help=f"Show the points ordered by {METRIC_NAMES}, best first. [default: grid order]")] = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE", help="Also write a chart of the two --pareto metrics, the front labelled: .svg, .png or .pdf (needs the plot extra: pip install 'fpnscope[plot]').")] = None,
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """A design space: every combination of the --grid values, its Pareto front and the best point.

    One row per point (grid values, params, MACs, memory, levels, findings; latency and throughput
    with --profile), the Pareto front of two metrics marked, a text scatter of them and a bar
    chart. On the meta device by default; the backbone is measured once per backbone and input.
    Ctrl-C stops the sweep and prints the points measured so far (exit 130).

    Exit code 0: every point was measured without error findings and, with --where, at least one
    keeps every constraint; 1: a point could not be measured or has error findings, or no point
    keeps the constraints; 2: bad input.
    """
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        from fpnscope import api

        axes = [api.parse_axis(item) for item in grid]
        sizes = parse_list(size, "--input") if size else None
        overrides = parse_sets(sets)
        if plot is not None:
            from fpnscope.render.plots import check_plot_path

            check_plot_path(plot)  # before the sweep, not after it
        if profile_:
            collect_cycles()  # a real device from the start: cycles may hold its memory
        with progress("sweeping", unit="point") as bar, interruptible():

            def on_point(done: int, total: int, label: str) -> None:
                if done == 1:
                    # torch's pytree and the models leave reference cycles behind every point: with
                    # the collector off (see main) memory would grow with the points. Once the first
                    # point has loaded torch and the model code, freeze all that and collect.
                    collect_cycles()
                bar(done, total, label)

            report = api.sweep(target, grid=axes, inputs=sizes, batch=batch, set=overrides, profile=profile_,
                               device=device, pareto=parse_list(pareto, "--pareto"), where=where or [],
                               metric=metric, sort=sort, allow_python=allow_python, on_progress=on_point)
        emit(fmt, output, report, f"fpnscope sweep {report.model}")
        if plot is not None and report.points:
            report.plot(plot)
            say(f"wrote {plot}")
    if report.interrupted:
        say(f"interrupted: {len(report.points)} of {report.planned} points measured; the report holds them")
        raise typer.Exit(EXIT_INTERRUPTED)
    code = 0
    if report.failed:
        shown = ", ".join(f"#{i}" for i in report.failed)
        say(f"{len(report.failed)} of {len(report.points)} points could not be measured or have error findings: "
            f"{shown}; their reasons are in their rows")
        code = EXIT_FINDINGS
    if report.where and not report.satisfying:
        say(f"no point keeps {', '.join(c.expression for c in report.where)}")
        code = EXIT_FINDINGS
    if code:
        raise typer.Exit(code)
