"""The command line: one thin function per command (parse -> call -> render).

Nothing heavy is imported at module level: ``fpnscope --help`` and ``presets list`` never import
torch, and ``inspect`` on a synthetic backbone imports neither timm nor torchvision.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from fpnscope import __version__
from fpnscope.cli_args import check_python_allowed, collect_overrides, parse_batch, parse_list, parse_size
from fpnscope.errors import ConfigError, FpnscopeError
from fpnscope.output import console, emit, lazy, resolve_format

app = typer.Typer(
    name="fpnscope",
    help="Inspect, cost and compare feature-pyramid vision models (backbone -> neck -> head).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click help and errors: rich's help formatter alone costs more than importing typer
    rich_markup_mode=None,
)
presets_app = typer.Typer(help="Bundled presets: list them, show one.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(presets_app, name="presets")

EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 3, 130, 141


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@contextmanager
def _cli_errors() -> Iterator[None]:
    """Turn the project's errors into one message on stderr and exit code 2, never a traceback."""
    try:
        yield
        sys.stdout.flush()  # so that a closed pipe shows up here, not later in click's handler
    except FpnscopeError as err:
        _stderr(f"error: {err}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        _stderr("interrupted")
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
        _stderr(
            f"internal error: {type(err).__name__}: {err}\n"
            "This is a bug in fpnscope; run again with FPNSCOPE_DEBUG=1 for the traceback."
        )
        raise typer.Exit(EXIT_INTERNAL) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


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


TargetArg = Annotated[
    str, typer.Argument(metavar="TARGET", help="A bundled preset name (see `presets list`) or a YAML file.")
]
InputOpt = Annotated[
    str | None, typer.Option("--input", "-i", metavar="HxW", help="Input size HxW, or one number for a square. [default: the preset's]")
]
BatchOpt = Annotated[int | None, typer.Option("--batch", "-b", metavar="N", help="Batch size. [default: the preset's]")]
SetOpt = Annotated[
    list[str],
    typer.Option("--set", "-s", metavar="KEY=VALUE", help="Override a key: key.path=value (YAML value). Repeatable."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout (short for --format json).")]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", metavar="FORMAT", help="table, json, csv or markdown. [default: from --output's extension, else table]"),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file (.json .csv .md .txt, or .svg for a picture)."),
]
AllowPythonOpt = Annotated[
    bool,
    typer.Option("--allow-python", help="Let a YAML file that is not a bundled preset import and run its python backbone."),
]


@app.command()
def inspect(
    target: TargetArg,
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = [],  # noqa: B006 - typer reads the default, never mutates it
    device: Annotated[str, typer.Option(metavar="DEVICE", help="meta (shapes only, instant), cpu, cuda[:N] or mps.")] = "meta",
    depth: Annotated[int, typer.Option(min=0, metavar="N", help="Per-module breakdown down to this depth (1 = stages).")] = 0,
    flops_backend: Annotated[
        str, typer.Option(metavar="NAME", help="torch (fpnscope's own count) or fvcore (also cross-check on a real CPU forward).")
    ] = "torch",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")] = False,
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
    with _cli_errors():
        if flops_backend not in ("torch", "fvcore"):
            raise ConfigError(f"--flops-backend {flops_backend!r}: use torch or fvcore")
        fmt = resolve_format(fmt, as_json, output)
        from fpnscope.config.loader import load_config

        overrides = collect_overrides(sets, size, batch)
        loaded = load_config(target, overrides)
        check_python_allowed(loaded, allow_python, sets)
        if device != "meta":
            _collect_cycles()
        from fpnscope.analysis.pipeline import inspect_model

        report = inspect_model(loaded, device=device, depth=depth, flops_backend=flops_backend)
        emit(fmt, output, report.to_dict, lambda: lazy("render_plain", "inspect_tables")(report),
             lambda console: lazy("render", "render_inspect")(report, console, strict), f"fpnscope inspect {loaded.name}")
    if report.has_errors or (strict and report.has_warnings):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
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
    sets: SetOpt = [],  # noqa: B006
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Latency, throughput and memory per stage, on CUDA or the CPU.

    Warm-up excluded, device synchronised around the timed region (CUDA events on a GPU), median,
    p10, p90, mean and standard deviation over many calls on rotating random inputs.
    """
    with _cli_errors():
        from fpnscope.config.loader import load_config

        fmt = resolve_format(fmt, as_json, output)
        sizes = parse_list(size, "--input", parse_size) if size else None
        batches = parse_list(batch, "--batch", parse_batch) if batch else None
        loaded = load_config(target, list(sets))
        check_python_allowed(loaded, allow_python, sets)
        _collect_cycles()
        from fpnscope.analysis.profile import profile_model
        from fpnscope.report_profile import ProfileSettings

        settings = ProfileSettings(dtype=dtype, mode=mode, channels_last=channels_last, compile=compile_,
                                   cuda_graphs=cuda_graphs, warmup=warmup, iters=iters)
        with _progress() as on_point:
            report = profile_model(loaded, device, settings, sizes, batches, on_point)
        emit(fmt, output, report.to_dict, lambda: lazy("render_plain", "profile_tables")(report),
             lambda console: lazy("render_profile", "render_profile")(report, console), f"fpnscope profile {loaded.name}")


@app.command()
def compare(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="TARGET...", help="Presets, YAML files or saved `inspect --json` reports; the first is the baseline."),
    ],
    neck: Annotated[str | None, typer.Option("--neck", metavar="KIND,...", help="Neck kinds to put on the (one) target, comma-separated: fpn,pafpn,bifpn.")] = None,
    variant: Annotated[
        list[str], typer.Option("--variant", metavar='"NAME: K=V,..."', help="Another variant of the first target: 'name: key=value,key=value' (bare keys are neck keys). Repeatable.")
    ] = [],  # noqa: B006
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = [],  # noqa: B006
    profile_: Annotated[bool, typer.Option("--profile", help="Also time each variant with the profile harness.")] = False,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="Device for --profile: auto, cpu, cuda[:N] or mps.")] = "auto",
    sort: Annotated[str | None, typer.Option("--sort", metavar="METRIC", help="Sort the variants after the baseline by params, macs, flops, memory, latency, throughput or name.")] = None,
    metric: Annotated[str, typer.Option("--metric", metavar="METRIC", help="The bar chart's metric: params, macs, flops, memory, latency or throughput.")] = "macs",
    fail_on: Annotated[
        list[str], typer.Option("--fail-on", metavar="BUDGET", help="Budget: exit 1 when exceeded, e.g. 'macs>+5%' (vs the baseline), 'params>30M', 'memory>2GiB', 'throughput<-5%'. Repeatable.")
    ] = [],  # noqa: B006
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Variants side by side, with deltas against the first.

    Params, MACs and FLOPs per stage, output levels, estimated memory and, with --profile,
    latency and throughput.

    Exit code 1 when a --fail-on budget is exceeded.
    """
    with _cli_errors():
        from fpnscope.analysis.compare import compare_models, plan_variants
        from fpnscope.config.variants import parse_variant
        from fpnscope.report_compare import METRICS, Budget

        fmt = resolve_format(fmt, as_json, output)
        if metric not in METRICS:
            raise ConfigError(f"--metric {metric!r}: use one of {', '.join(METRICS)}")
        if sort is not None and sort not in (*METRICS, "name"):
            raise ConfigError(f"--sort {sort!r}: use one of {', '.join((*METRICS, 'name'))}")
        budgets = [Budget.parse(b) for b in fail_on]
        needs_time = [m for m in (metric, sort, *(b.metric for b in budgets)) if m in ("latency", "throughput")]
        if needs_time and not profile_:
            raise ConfigError(f"{needs_time[0]} is measured only with --profile; add --profile")
        necks = parse_list(neck, "--neck", str) if neck else []
        plan = plan_variants(targets, necks, [parse_variant(v) for v in variant])
        overrides = collect_overrides(sets, size, batch)
        settings = None
        if profile_:
            _collect_cycles()
            from fpnscope.report_profile import ProfileSettings

            settings = ProfileSettings(stages=False)
        with _progress("comparing") as on_variant:
            report = compare_models(
                plan, overrides, profile=settings, device=device, metric=metric,
                check=lambda loaded, spec: check_python_allowed(loaded, allow_python, [*overrides, *spec.overrides]),
                on_variant=on_variant,
            )
        if sort is not None:
            report.variants[1:] = sorted(
                report.variants[1:],
                key=lambda v: (v.status != "ok", v.name if sort == "name" else (v.value(sort) or 0)),
                reverse=sort == "throughput",
            )
        report.check(budgets)
        if len(report.inputs) > 1:
            from fpnscope.fmt import input_text

            shown = ", ".join(f"{v.name} {input_text(v.input)}" for v in report.variants if v.status == "ok")
            _stderr(f"warning: the variants were analysed at different inputs ({shown}); "
                    "their deltas and relative budgets compare different work")
        emit(fmt, output, report.to_dict, lambda: lazy("render_compare", "compare_tables")(report),
             lambda console: lazy("render_compare", "render_compare")(report, console), "fpnscope compare")
    if report.over_budget:
        from fpnscope.fmt import budget_value

        for check in report.over_budget:
            _stderr(f"over budget: {check.variant}: {check.expression} ({check.metric} = "
                    f"{budget_value(check.metric, check.relative, check.value)})")
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def graph(
    target: TargetArg,
    size: InputOpt = None,
    batch: BatchOpt = None,
    sets: SetOpt = [],  # noqa: B006
    allow_python: AllowPythonOpt = False,
    as_json: JsonOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The neck's dataflow as a picture.

    Input levels, lateral, top-down and bottom-up paths, fusion nodes and output levels.

    Derived from the built module's forward on meta tensors, so it is right for every neck,
    a user's own included.
    """
    with _cli_errors():
        from fpnscope.config.loader import load_config

        fmt = resolve_format(fmt, as_json, output)
        overrides = collect_overrides(sets, size, batch)
        loaded = load_config(target, overrides)
        check_python_allowed(loaded, allow_python, sets)
        from fpnscope.analysis.graph import neck_graph

        base_dir = None if loaded.source.bundled else loaded.source.path.parent
        report = neck_graph(loaded.config, base_dir)
        report.model = loaded.name
        emit(fmt, output, report.to_dict, lambda: lazy("render_graph", "graph_tables")(report),
             lambda console: lazy("render_graph", "render_graph")(report, console), f"fpnscope graph {loaded.name}")


@contextmanager
def _progress(verb: str = "profiling") -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr (shown only on a terminal), fed with (done, total, label)."""
    err = console(stderr=True)
    if not err.is_terminal:  # rich would still print a blank line when it stops
        yield lambda done, total, label: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn(verb + " {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )
    task = progress.add_task("", total=None)

    def update(done: int, total: int, label: str) -> None:
        progress.update(task, completed=done, total=total, description=label)

    with progress:
        yield update


@presets_app.command("list")
def presets_list(as_json: JsonOpt = False, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """Every bundled preset: name, model, levels, description."""
    with _cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        from fpnscope.config.loader import load_raw, resolve
        from fpnscope.config.presets import preset_names
        from fpnscope.config.summary import level_range, pyramid_levels

        rows = []
        for name in preset_names():
            raw = load_raw(resolve(name))
            backbone = raw.get("backbone", {})
            rows.append(
                {
                    "name": name,
                    "backbone": " ".join(str(v) for v in (backbone.get("kind"), backbone.get("name")) if v),
                    "neck": str(raw.get("neck", {}).get("kind", "")),
                    "head": (raw.get("head") or {}).get("kind"),
                    "levels": pyramid_levels(raw),
                    "description": raw.get("description", ""),
                }
            )
        emit(fmt, output, lambda: rows, lambda: lazy("render_plain", "presets_tables")(rows),
             lambda console: lazy("render", "render_presets")(rows, console, level_range), "fpnscope presets")


@presets_app.command("show")
def presets_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A bundled preset name.")],
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Show the validated result with _base_ merged and defaults filled in.")
    ] = False,
) -> None:
    """A bundled preset's YAML, as written or --resolved."""
    with _cli_errors():
        from fpnscope.config.loader import load_config, resolve

        source = resolve(name, paths=False)
        if not source.bundled:
            raise ConfigError(f"'{name}' is a path; `presets show` takes a bundled preset name")
        if resolved:
            import yaml

            data = load_config(name).config.model_dump(mode="json")
            sys.stdout.write(yaml.safe_dump(data, sort_keys=False))
        else:
            sys.stdout.write(source.path.read_text(encoding="utf-8"))


@app.command()
def schema() -> None:
    """JSON Schema of the preset format, for editors."""
    with _cli_errors():
        from fpnscope.config.schema import PresetConfig

        data = PresetConfig.model_json_schema()
        data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        data["title"] = "fpnscope preset"
        data["properties"] = {
            "_base_": {"type": "string", "description": "A preset name or a path relative to this file to inherit from."},
            **data["properties"],
        }
        _print_json(data)


def _interrupted(signum: int, frame: Any) -> None:
    # A SystemExit (not a KeyboardInterrupt, which click would turn into "Aborted!" and exit 1)
    # unwinds the run and leaves with the conventional code for Ctrl-C.
    _stderr("interrupted")
    raise SystemExit(EXIT_INTERRUPTED)


def _collect_cycles() -> None:
    """Turn the cycle collector back on for a long run on a real device, where cycles may hold
    device memory; what is already loaded is frozen so that collections skip it."""
    gc.freeze()
    gc.enable()


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGINT, _interrupted)
    # A run is short and mostly imports: torch, torchvision and timm create millions of objects,
    # and every full collection rescans them all, about a fifth of an `inspect` here. An analysis
    # on meta holds no device memory and leaves little cyclic garbage, so the collector stays off;
    # the commands that run a real device call _collect_cycles.
    gc.disable()
    app()
