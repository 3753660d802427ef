"""``fpnscope profile TARGET``."""

from __future__ import annotations

from typing import Annotated

import typer

from fpnscope.cli.args import parse_list, parse_sets
from fpnscope.cli.edge import EXIT_FINDINGS, cli_errors, collect_cycles, say
from fpnscope.cli.options import AllowPythonOpt, FormatOpt, JsonOpt, OutputOpt, SetOpt, TargetArg
from fpnscope.cli.output import emit, resolve_format
from fpnscope.cli.progress import progress


def profile(
    target: TargetArg,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="auto (CUDA when present, else CPU), cpu, cuda[:N] or mps.")] = "auto",
    batch: Annotated[str | None, typer.Option("--batch", "-b", metavar="N,...", help="Batch sizes, comma-separated: 1,8,32. [default: the preset's]")] = None,
    size: Annotated[
        str | None, typer.Option("--input", "-i", metavar="HxW,...", help="Input sizes, comma-separated: 512,640,800x1333. [default: the preset's]")
    ] = None,
    dtype: Annotated[str, typer.Option(metavar="DTYPE", help="fp32, or fp16 / bf16 through autocast (bf16 on the CPU).")] = "fp32",
    mode: Annotated[str, typer.Option(metavar="MODE", help="infer (inference mode) or train (forward + backward).")] = "infer",
    channels_last: Annotated[bool, typer.Option("--channels-last", help="Model and inputs in channels-last memory format.")] = False,
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile each stage; compile time is reported apart.")] = False,
    cuda_graphs: Annotated[bool, typer.Option("--cuda-graphs", help="Capture each stage in a CUDA graph and time its replays.")] = False,
    warmup: Annotated[int, typer.Option(min=0, metavar="N", help="Untimed calls before timing.")] = 3,
    iters: Annotated[int, typer.Option(min=0, metavar="N", help="Timed calls per stage; 0: at least 10 and at least one second.")] = 0,
    sets: SetOpt = None,
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Latency, throughput and memory per stage, on CUDA or the CPU.

    Warm-up excluded, device synchronised around the timed region (CUDA events on a GPU), median,
    p10, p90, mean and standard deviation over many calls on rotating random inputs.

    Exit code 1 when a point fails, or when no point could run (every one out of memory).
    """
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        sizes = parse_list(size, "--input") if size else None
        batches = parse_list(batch, "--batch") if batch else None
        overrides = parse_sets(sets)
        collect_cycles()
        from fpnscope import api

        with progress() as on_point:
            report = api.profile(target, device=device, input=sizes, batch=batches, set=overrides, dtype=dtype,
                                 mode=mode, channels_last=channels_last, compile=compile_, cuda_graphs=cuda_graphs,
                                 warmup=warmup, iters=iters, allow_python=allow_python, on_progress=on_point)
        emit(fmt, output, report, f"fpnscope profile {report.model}")
    errors = [p for p in report.points if p.status == "error"]
    refused = [p for p in report.points if p.status == "oom"]
    for point in errors + refused:
        say(f"{point.status}: {point.batch}×{point.height}×{point.width}: {point.message}")
    if errors or len(refused) == len(report.points):  # nothing measured, or a point that failed
        raise typer.Exit(EXIT_FINDINGS)
