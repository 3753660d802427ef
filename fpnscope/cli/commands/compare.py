"""``fpnscope compare TARGET...``."""

from __future__ import annotations

from typing import Annotated

import typer

from fpnscope.cli.args import parse_list, parse_sets, parse_variant
from fpnscope.cli.edge import EXIT_FINDINGS, cli_errors, collect_cycles, say
from fpnscope.cli.options import AllowPythonOpt, BatchOpt, FormatOpt, InputOpt, JsonOpt, OutputOpt, SetOpt
from fpnscope.cli.output import emit, resolve_format
from fpnscope.cli.progress import progress


def compare(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="TARGET...", help="Presets, YAML files or saved `inspect --json` reports; the first is the baseline."),
    ],
    neck: Annotated[str | None, typer.Option("--neck", metavar="KIND,...", help="Neck kinds to put on the (one) target, comma-separated: fpn,pafpn,bifpn.")] = None,
    variant: Annotated[
        list[str] | None, typer.Option("--variant", metavar='"NAME: K=V,..."', help="Another variant of the first target: 'name: key=value,key=value' (bare keys are neck keys). Repeatable.")
    ] = None,
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = None,
    profile_: Annotated[bool, typer.Option("--profile", help="Also time each variant with the profile harness.")] = False,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="Device for --profile: auto, cpu, cuda[:N] or mps.")] = "auto",
    sort: Annotated[str | None, typer.Option("--sort", metavar="METRIC", help="Sort the variants after the baseline by params, macs, flops, memory, latency, throughput or name.")] = None,
    metric: Annotated[str, typer.Option("--metric", metavar="METRIC", help="The bar chart's metric: params, macs, flops, memory, latency or throughput.")] = "macs",
    fail_on: Annotated[
        list[str] | None, typer.Option("--fail-on", metavar="BUDGET", help="Budget: exit 1 when exceeded, e.g. 'macs>+5%' (vs the baseline), 'params>30M', 'memory>2GiB', 'throughput<-5%'. Repeatable.")
    ] = None,
    plot: Annotated[str | None, typer.Option("--plot", metavar="FILE", help="Also write the MACs per level as grouped bars, one per variant: .svg, .png or .pdf (needs the plot extra: pip install 'fpnscope[plot]').")] = None,
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Variants side by side, with deltas against the first.

    Params, MACs and FLOPs per stage, output levels, estimated memory and, with --profile,
    latency and throughput.

    Exit code 1 when a variant fails to build or run, or a --fail-on budget is exceeded.
    """
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        necks = parse_list(neck, "--neck") if neck else None
        variants = [parse_variant(v) for v in variant or []]
        overrides = parse_sets(sets)
        if plot is not None:
            from fpnscope.render.plots import check_plot_path

            check_plot_path(plot)  # before the analysis, not after it
        if profile_:
            collect_cycles()
        from fpnscope import api

        with progress("comparing") as on_variant:
            report = api.compare(targets, necks=necks, variants=variants, input=size, batch=batch, set=overrides,
                                 profile=profile_, device=device, metric=metric, sort=sort, fail_on=fail_on or [],
                                 allow_python=allow_python, on_progress=on_variant)
        if len(report.inputs) > 1:
            from fpnscope.render.fmt import input_text

            shown = ", ".join(f"{v.name} {input_text(v.input)}" for v in report.variants if v.status == "ok")
            say(f"warning: the variants were analysed at different inputs ({shown}); "
                "their deltas and relative budgets compare different work")
        emit(fmt, output, report, "fpnscope compare")
        if plot is not None:
            report.plot(plot)
            say(f"wrote {plot}")
    failed = [v for v in report.variants if v.status != "ok"]
    for v in failed:  # a gate must not pass over a variant that did not build
        say(f"failed: {v.name}: {v.error}")
    if report.over_budget:
        from fpnscope.render.fmt import budget_value

        for check in report.over_budget:
            say(f"over budget: {check.variant}: {check.expression} ({check.metric} = "
                f"{budget_value(check.metric, check.relative, check.value)})")
    if failed or report.over_budget:
        raise typer.Exit(EXIT_FINDINGS)
