"""The library: the command line's reports as objects, for scripts and notebooks.

Every function takes what a user has at hand (a bundled preset's name, a YAML path, a plain dict,
or a configuration from :func:`load`) and returns a report with typed attributes, ``to_dict()``
(the ``--json`` document) and a display of its own in a terminal (``rich.print``) or a notebook.
Bad input raises :class:`~fpnscope.errors.ConfigError`; nothing here prints or exits. Nothing is
kept between two calls: each call builds what it analyses.

Importing this module is light; torch and the model code load on the first call that needs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fpnscope.config.files import forget_modules, watched_files
from fpnscope.config.grid import GridLike, parse_axis
from fpnscope.config.inputs import SizeLike, input_overrides, many, parse_batch, parse_size
from fpnscope.config.overrides import Override, OverridesLike, as_overrides, parse_override, split_top_level
from fpnscope.errors import ConfigError

if TYPE_CHECKING:
    from fpnscope.config.loader import LoadedConfig
    from fpnscope.reports.compare import CompareReport
    from fpnscope.reports.graph import GraphReport
    from fpnscope.reports.inspect import InspectReport
    from fpnscope.reports.presets import PresetList
    from fpnscope.reports.profile import ProfileReport
    from fpnscope.reports.sweep import SweepReport

    Target = str | os.PathLike[str] | Mapping[str, Any] | LoadedConfig  # what every call takes
Progress = Callable[[int, int, str], None]  # (done, total, what is being done)

__all__ = ["Override", "compare", "forget_modules", "graph", "inspect", "load", "parse_axis", "parse_override",
           "preset_text", "presets", "profile", "schema", "split_top_level", "sweep", "watched_files"]


def load(
    target: Target, *, set: OverridesLike = None, input: SizeLike | None = None, batch: int | None = None
) -> LoadedConfig:
    """A validated configuration from a preset name, a YAML path, a dict, or another configuration.

    ``set`` overrides keys (``{"neck.out_channels": 128}``), ``input`` is ``"HxW"``, one number or
    ``(H, W)``.

    >>> import fpnscope as fs
    >>> fs.load("synthetic_fpn", set={"neck.out_channels": 128}, input=64).config.neck.out_channels
    128
    """
    from fpnscope.config.loader import LoadedConfig, load_config

    if not isinstance(target, (str, os.PathLike, Mapping, LoadedConfig)):
        raise ConfigError(f"cannot load a {type(target).__name__}: give a preset name, a YAML path, a dict or a "
                          "configuration from fpnscope.load")
    document = dict(target) if isinstance(target, Mapping) else target
    overrides = [*as_overrides(set), *input_overrides(input, batch)]
    return load_config(os.fspath(document) if isinstance(document, os.PathLike) else document, overrides)


def _trusted(target: Target, allow_python: bool, **how: Any) -> LoadedConfig:
    from fpnscope.config.trust import require_trust

    loaded = load(target, **how)
    require_trust(loaded, allow_python)
    return loaded


def inspect(
    target: Target | Any = None,
    *,
    input: SizeLike | None = None,
    batch: int | None = None,
    set: OverridesLike = None,
    device: str = "meta",
    depth: int | None = None,
    flops_backend: str = "torch",
    allow_python: bool = False,
    backbone: Any = None,
    neck: Any = None,
    head: Any = None,
    stages: Mapping[str, Any] | None = None,
) -> InspectReport:
    """Levels, costs, memory and findings of one model, measured on ``device`` (meta: no memory
    and no compute). ``depth`` adds a per-module breakdown (1 = the stages).

    Your own code: ``backbone=``, ``neck=``, ``head=`` take modules or factories (or a kind's name,
    or a section), and a whole model from another library goes as ``inspect(model, stages={"backbone":
    "backbone.body", "neck": "backbone.fpn", "head": "head"})``: its stages run in order.

    >>> import fpnscope as fs
    >>> fs.inspect("resnet50_fpn", input=256).params.total
    26852416
    """
    if flops_backend not in ("torch", "fvcore"):
        raise ConfigError(f"«flops_backend» {flops_backend!r}: use torch or fvcore", option="flops_backend",
                          choices=["torch", "fvcore"])
    if depth is not None and depth < 0:
        raise ConfigError(f"«depth» {depth}: a depth is 0 or more", option="depth")
    loaded = _trusted(_target(target, backbone, neck, head, stages), allow_python, set=set, input=input, batch=batch)
    from fpnscope.analysis.inspect import inspect_model

    with loaded.naming_errors():
        return inspect_model(loaded, device=device, depth=depth or 0, flops_backend=flops_backend)


def _target(target: Any, backbone: Any, neck: Any, head: Any, stages: Mapping[str, Any] | None) -> Any:
    """What to load: the target as given, or a document composed of the objects given."""
    from fpnscope.config.loader import LoadedConfig

    named = isinstance(target, (str, os.PathLike, Mapping, LoadedConfig))
    if named and (backbone is None and neck is None and head is None and stages is None):
        return target
    if named:
        raise ConfigError("give either a target (a preset, a file, a dict) or the stages' modules, not both",
                          option="backbone")
    from fpnscope.config.compose import compose

    return compose(target, stages, backbone, neck, head)


def compare(
    targets: Sequence[Target],
    *,
    necks: Sequence[str] | None = None,
    variants: Mapping[str, OverridesLike] | Sequence[tuple[str, OverridesLike]] | None = None,
    input: SizeLike | None = None,
    batch: int | None = None,
    set: OverridesLike = None,
    profile: bool = False,
    device: str = "auto",
    metric: str = "macs",
    sort: str | None = None,
    fail_on: Sequence[str] = (),
    allow_python: bool = False,
    on_progress: Progress | None = None,
) -> CompareReport:
    """Models side by side, the first the baseline: presets, files, dicts or saved ``inspect``
    reports (``.json``); or the first with each of ``necks`` (``["fpn", "bifpn"]``), or with each of
    ``variants`` (``{"wide": {"neck.out_channels": 512}}``). ``fail_on`` budgets such as
    ``"macs>+5%"`` are checked (see ``report.over_budget``); ``profile`` times every variant.

    >>> import fpnscope as fs
    >>> [v.name for v in fs.compare(["synthetic_fpn"], necks=["fpn", "pafpn"], input=64).variants]
    ['fpn', 'pafpn']
    """
    from fpnscope.reports.budget import METRICS, Budget

    if isinstance(targets, (str, Mapping, os.PathLike)):
        targets = [targets]
    if metric not in METRICS:
        raise ConfigError(f"«metric» {metric!r}: use one of {', '.join(METRICS)}", option="metric", choices=METRICS)
    if sort is not None and sort not in (*METRICS, "name"):
        raise ConfigError(f"«sort» {sort!r}: use one of {', '.join((*METRICS, 'name'))}", option="sort",
                          choices=(*METRICS, "name"))
    budgets = [Budget.parse(b) for b in fail_on]
    timed = [m for m in (metric, sort, *(b.metric for b in budgets)) if m in ("latency", "throughput")]
    if timed and not profile:
        raise ConfigError(f"{timed[0]} is measured only with «profile»; add «profile»", option="profile")
    from fpnscope.analysis.compare import compare_models, plan_variants
    from fpnscope.reports.profile import ProfileSettings

    pairs = list(variants.items()) if isinstance(variants, Mapping) else list(variants or [])
    derived = [(name, as_overrides(items)) for name, items in pairs]
    given = [os.fspath(t) if isinstance(t, os.PathLike) else dict(t) if isinstance(t, Mapping) else t for t in targets]
    plan = plan_variants(given, necks or (), derived)
    sets = [*as_overrides(set), *input_overrides(input, batch)]
    report = compare_models(plan, sets, profile=ProfileSettings(stages=False) if profile else None, device=device,
                            metric=metric, allow_python=allow_python, on_variant=on_progress)
    if sort is not None:
        report.sort(sort)
    report.check(budgets)
    return report


def sweep(
    target: Target,
    *,
    grid: GridLike,
    inputs: SizeLike | Sequence[SizeLike] | None = None,
    batch: int | None = None,
    set: OverridesLike = None,
    profile: bool = False,
    device: str = "auto",
    pareto: str | Sequence[str] = ("macs", "params"),
    where: Sequence[str] = (),
    metric: str | None = None,
    sort: str | None = None,
    allow_python: bool = False,
    on_progress: Progress | None = None,
) -> SweepReport:
    """Every point of ``grid`` (``{"neck.kind": ["fpn", "bifpn"], "out_channels": [96, 256]}``, bare
    keys are neck keys, ``out_channels`` is a BiFPN's ``width``), at each of ``inputs``: params, MACs,
    memory, levels, findings (latency with ``profile``), the Pareto front of ``pareto``, and the best
    point on ``metric`` (default: the first of ``pareto``) that keeps every ``where`` (``"params<30M"``).
    Ctrl-C stops it with the points measured so far (``report.interrupted``).

    >>> import fpnscope as fs
    >>> report = fs.sweep("synthetic_fpn", grid={"out_channels": [64, 128]}, inputs=64)
    >>> [p.values["neck.out_channels"] for p in report.points], report.front, report.best
    ([64, 128], [0], 0)
    """
    from fpnscope.config.grid import grid_axes, grid_points
    from fpnscope.reports.sweep import Axis, Goals, SweepReport

    goals = Goals.parse(pareto, metric, sort, where, profile)
    sizes = [parse_size(s) for s in many(inputs)]
    sets = [*as_overrides(set), *input_overrides(sizes[0] if len(sizes) == 1 else None, batch)]
    axes = grid_axes(grid, sizes, sets)
    base = _trusted(target, allow_python)
    from fpnscope.analysis.sweep import sweep_device, sweep_points
    from fpnscope.reports.profile import ProfileSettings

    used, note = sweep_device(device) if profile else ("meta", None)
    points, stopped = sweep_points(base, axes, sets, profile=ProfileSettings(stages=False) if profile else None,
                                   device=used, allow_python=allow_python, on_point=on_progress)
    return SweepReport(base.name, [Axis(k, v) for k, v in axes], points, goals.pareto, goals.metric, list(goals.where),
                       goals.sort, len(grid_points(axes)), stopped, used, note, profile)


def profile(
    target: Target,
    *,
    device: str = "auto",
    input: SizeLike | Sequence[SizeLike] | None = None,
    batch: int | Sequence[int] | None = None,
    set: OverridesLike = None,
    dtype: str = "fp32",
    mode: str = "infer",
    channels_last: bool = False,
    compile: bool = False,
    cuda_graphs: bool = False,
    warmup: int = 3,
    iters: int = 0,
    allow_python: bool = False,
    on_progress: Progress | None = None,
) -> ProfileReport:
    """Latency, throughput and memory of the model and of each stage on a real device (``auto``:
    CUDA when there is one, else the CPU), at every input in ``input`` and batch in ``batch``.
    ``iters`` 0 times at least 10 calls and one second per stage.
    """
    sizes = [parse_size(s) for s in many(input)] or None
    batches = [parse_batch(b) for b in many(batch)] or None
    loaded = _trusted(target, allow_python, set=set)
    from fpnscope.analysis.profile.run import profile_model
    from fpnscope.reports.profile import ProfileSettings

    settings = ProfileSettings(dtype=dtype, mode=mode, channels_last=channels_last, compile=compile,
                               cuda_graphs=cuda_graphs, warmup=warmup, iters=iters)
    with loaded.naming_errors():
        return profile_model(loaded, device, settings, sizes, batches, on_progress)


def graph(
    target: Target,
    *,
    input: SizeLike | None = None,
    batch: int | None = None,
    set: OverridesLike = None,
    allow_python: bool = False,
) -> GraphReport:
    """The neck's dataflow, recorded from its forward on meta tensors; a notebook draws it.

    >>> import fpnscope as fs
    >>> sorted(fs.graph("synthetic_fpn", input=64).outputs)
    ['P2', 'P3', 'P4', 'P5']
    """
    loaded = _trusted(target, allow_python, set=set, input=input, batch=batch)
    from fpnscope.analysis.graph import neck_graph

    with loaded.naming_errors():
        return neck_graph(loaded.config, loaded.source.base_dir, model=loaded.name)


def presets() -> PresetList:
    """Every bundled preset: name, model, levels (read from the YAML alone), description."""
    from fpnscope.config.summary import preset_infos
    from fpnscope.reports.presets import PresetInfo, PresetList

    return PresetList([PresetInfo(**info) for info in preset_infos()])


def preset_text(name: str, resolved: bool = False) -> str:
    """A bundled preset's YAML as written, or ``resolved`` (inheritance merged, defaults filled in)."""
    from fpnscope.config.summary import preset_yaml

    return preset_yaml(name, resolved)


def schema() -> dict[str, Any]:
    """The JSON Schema of the preset format (for editor completion)."""
    from fpnscope.config.schema import json_schema

    return json_schema()

