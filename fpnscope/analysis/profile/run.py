"""``profile``: latency, throughput and memory of the whole model and of each stage, on a real
device, for every point of a sweep over input sizes and batch sizes.

Each stage is timed on inputs cached from the stage before it, so backbone, neck and head times
are their own. The same calls are replayed once on the meta device to count their FLOPs and
estimate their memory, which is what lets the measured numbers be checked against the counted
ones.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch

from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.memory import available_bytes, param_bytes
from fpnscope.analysis.measure.run import MetaUnsupported, measure
from fpnscope.analysis.profile.devices import DTYPES, check_settings, device_name_of, resolve_profile_device
from fpnscope.analysis.profile.harness import synchronize, time_calls
from fpnscope.analysis.profile.stages import graphed, make_runner, stage_calls
from fpnscope.config.loader import LoadedConfig
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError, FpnscopeError
from fpnscope.models.assemble import build_model
from fpnscope.models.model import PyramidModel, StagePlan
from fpnscope.reports.profile import (
    ProfileDevice,
    ProfilePoint,
    ProfileReport,
    ProfileSettings,
    StageProfile,
)
from fpnscope.units import size_bytes

INPUT_BUFFERS = 2  # rotated, so no timed call reuses the previous call's input


@contextmanager
def preserved_state(settings: ProfileSettings) -> Iterator[None]:
    """Leave torch's global switches as they were found."""
    threads = torch.get_num_threads()
    benchmark = torch.backends.cudnn.benchmark
    grad = torch.is_grad_enabled()
    torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.backends.cudnn.benchmark = benchmark
        torch.set_grad_enabled(grad)


def count_stages(cfg: PresetConfig, base_dir: Path | None, settings: ProfileSettings) -> tuple[
    StagePlan, dict[str, tuple[int, int]], list[str], int
]:
    """On meta: how the model is wired, each stage's (FLOPs, activation peak bytes), the levels a
    shared head runs on, and the bytes of the parameters."""
    run = measure(cfg, torch.device("meta"), base_dir)
    if run.failure is not None:
        failure = run.failure
        where = f" at {failure.source.where}" if failure.source is not None else ""
        raise BuildError(f"the {failure.stage}'s forward fails{where}: {failure.error} (fpnscope inspect explains it)")
    inp = cfg.input
    x = torch.empty(inp.batch, inp.channels, inp.height, inp.width, device="meta")
    train = settings.mode == "train"
    model = run.model.train(train)
    counts: dict[str, tuple[int, int]] = {}
    with torch.set_grad_enabled(train):
        for stage in stage_calls(model, [x], train, _per_level(cfg)):
            runner = make_runner(stage, stage.module, train, nullcontext, torch.no_grad)
            with CostCounter() as counter:
                try:
                    runner(stage.inputs[0])
                except FpnscopeError:
                    raise
                except Exception as err:  # the model's own failure in this mode (inspect ran it in eval)
                    raise BuildError(
                        f"profile: the {stage.name} fails in {settings.mode} mode at batch {inp.batch}: "
                        f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                    ) from err
            cost = counter.total("")
            counts[stage.name] = (2 * cost.macs, counter.live.peak if counter.live else 0)
    names = [lvl.name for lvl in run.levels]
    head_levels = [names[i] for i in (run.model.head_inputs or range(len(names)))] if run.model.head else []
    return run.plan, counts, head_levels, param_bytes(run.model)


def _per_level(cfg: PresetConfig) -> bool:
    return cfg.head is not None and cfg.head.kind in ("retina", "fcos")  # one set of weights on every level


def _is_oom(err: BaseException) -> bool:
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def profile_point(
    cfg: PresetConfig, device: torch.device, settings: ProfileSettings, base_dir: Path | None,
    model_cache: dict[tuple[int, int], PyramidModel],
) -> ProfilePoint:
    """Time every stage of ``cfg`` at its input on ``device``."""
    inp = cfg.input
    point = ProfilePoint(inp.batch, inp.height, inp.width)
    plan: StagePlan | None = None
    counts: dict[str, tuple[int, int]] = {}
    head_levels: list[str] = []
    try:
        plan, counts, head_levels, weights = count_stages(cfg, base_dir, settings)
    except MetaUnsupported:
        weights = 0  # no counts: the model still gets timed
    # checked before anything is built on the device
    estimate = weights + counts.get("model", (0, 0))[1] + INPUT_BUFFERS * _input_bytes(cfg)
    available = available_bytes(device)
    if counts and available is not None and estimate > available:
        point.status = "oom"
        point.message = (
            f"estimated {size_bytes(estimate)} on the meta device, {size_bytes(available)} available: not run"
        )
        return point
    key = (inp.height, inp.width)
    if key not in model_cache:
        model_cache.clear()  # one model at a time on the device
        with torch.device(device):
            model_cache[key], _, _ = build_model(cfg, plan, base_dir)
    model = model_cache[key]
    point.params_bytes = param_bytes(model)
    train = settings.mode == "train"
    model.train(train)
    memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)
    generator = torch.Generator().manual_seed(0)
    xs = [
        torch.randn(inp.batch, inp.channels, inp.height, inp.width, generator=generator)
        .to(device)
        .contiguous(memory_format=memory_format)
        for _ in range(INPUT_BUFFERS)
    ]
    dtype = DTYPES[settings.dtype]

    def autocast() -> Any:
        if dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device.type, dtype=dtype, cache_enabled=not settings.cuda_graphs)

    compile_seconds = 0.0
    calls = stage_calls(model, xs, train, _per_level(cfg))
    for stage in calls if settings.stages else calls[:1]:
        if device.type == "cuda":
            # before compiling or capturing: a CUDA graph's private pool is part of the stage's peak
            synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
        module: Callable[..., Any] = stage.module
        if settings.compile:
            mode = "reduce-overhead" if settings.cuda_graphs else None
            module = torch.compile(stage.module, mode=mode)
        run = make_runner(stage, module, train, autocast)
        if settings.compile:
            t0 = time.perf_counter()
            run(stage.inputs[0])  # the first call compiles: timed apart, never mixed into latency
            synchronize(device)
            compile_seconds += time.perf_counter() - t0
        if settings.cuda_graphs and not settings.compile:
            run = graphed(run, stage.inputs[0])
        timing = time_calls(run, stage.inputs, device, warmup=settings.warmup, iters=settings.iters)
        measured = torch.cuda.max_memory_allocated(device) - base if device.type == "cuda" else None
        flops, est_peak = counts.get(stage.name, (None, None))
        name = stage.name
        if name.startswith("head#") and head_levels:
            name = f"head {head_levels[int(name[5:])]}"
        point.stages[name] = StageProfile(timing, inp.batch, flops, measured, est_peak)
    point.compile_seconds = compile_seconds if settings.compile else None
    return point


def _input_bytes(cfg: PresetConfig) -> int:
    inp = cfg.input
    return inp.batch * inp.channels * inp.height * inp.width * 4


def profile_model(
    loaded: LoadedConfig,
    device_name: str,
    settings: ProfileSettings,
    sizes: Sequence[tuple[int, int]] | None = None,
    batches: Sequence[int] | None = None,
    on_point: Callable[[int, int, str], None] | None = None,
) -> ProfileReport:
    """Profile every (size, batch) point; an out-of-memory point is recorded and the sweep goes on.

    >>> from fpnscope.config.loader import load_config
    >>> report = profile_model(load_config("synthetic_fpn"), "cpu", ProfileSettings(warmup=1, iters=2),
    ...                        sizes=[(64, 64)], batches=[1])
    >>> report.points[0].status, sorted(report.points[0].stages)
    ('ok', ['backbone', 'model', 'neck'])
    """
    cfg = loaded.config
    device, note = resolve_profile_device(device_name)
    check_settings(settings, device)
    base_dir = loaded.source.base_dir
    sizes = list(sizes or [(cfg.input.height, cfg.input.width)])
    batches = list(batches or [cfg.input.batch])
    plan = [(size, batch) for size in sizes for batch in batches]
    points: list[ProfilePoint] = []
    cache: dict[tuple[int, int], PyramidModel] = {}
    with preserved_state(settings):
        for done, ((height, width), batch) in enumerate(plan):
            if on_point is not None:
                on_point(done, len(plan), f"{batch}×{cfg.input.channels}×{height}×{width}")
            point_cfg = cfg.model_copy(update={"input": cfg.input.model_copy(update={"height": height, "width": width, "batch": batch})})
            try:
                points.append(profile_point(point_cfg, device, settings, base_dir, cache))
            except FpnscopeError as err:
                if len(plan) == 1:
                    raise
                points.append(ProfilePoint(batch, height, width, status="error", message=str(err)))
            except Exception as err:
                if not _is_oom(err):
                    raise
                points.append(ProfilePoint(batch, height, width, status="oom", message=str(err).splitlines()[0]))
                cache.clear()
                gc.collect()
                if device.type == "cuda":
                    torch.cuda.empty_cache()
        if on_point is not None:
            on_point(len(plan), len(plan), "done")
    return ProfileReport(
        model=loaded.name,
        description=cfg.description,
        device=ProfileDevice(
            requested=device_name,
            used=str(device),
            name=device_name_of(device),
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            note=note,
        ),
        settings=settings,
        points=points,
    )
