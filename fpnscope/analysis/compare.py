"""``compare``: several models, or one model with several necks or overrides, side by side.

Every variant is analysed as ``inspect`` analyses it (on meta, the backbone once for all variants
that share it), or read from a saved ``inspect --json`` report; ``--profile`` adds the latency of
the whole model from the profile harness.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpnscope.config.loader import LoadedConfig, load_config
from fpnscope.config.variants import swap_neck
from fpnscope.errors import BuildError, ConfigError
from fpnscope.report_compare import CompareReport, VariantResult
from fpnscope.report_profile import ProfileSettings

MAX_REPORT_BYTES = 20_000_000


@dataclass(frozen=True)
class VariantSpec:
    """How to get one variant: a target, overrides, and maybe another neck kind."""

    name: str
    target: str
    overrides: tuple[str, ...] = ()
    neck_kind: str | None = None


def plan_variants(
    targets: Sequence[str], necks: Sequence[str] = (), variants: Sequence[tuple[str, list[str]]] = ()
) -> list[VariantSpec]:
    """``--neck`` swaps the first target's neck kind; ``--variant`` derives from the first target.

    >>> [v.name for v in plan_variants(["resnet50_fpn"], ["fpn", "pafpn"], [("wide", ["neck.out_channels=512"])])]
    ['fpn', 'pafpn', 'wide']
    """
    if not targets:
        raise ConfigError("compare: name at least one preset, YAML file or saved report")
    if necks and len(targets) != 1:
        raise ConfigError("--neck compares neck kinds on one model: give exactly one target with it")
    if (necks or variants) and targets[0].endswith(".json"):
        raise ConfigError(f"--neck and --variant need a preset or YAML file to derive from, not the report {targets[0]}")
    plan: list[VariantSpec] = []
    if necks:
        for kind in necks:
            swap_neck({}, kind)  # an unknown kind is refused before anything is built
        plan = [VariantSpec(kind, targets[0], neck_kind=kind) for kind in necks]
    else:
        plan = [VariantSpec(_label(t), t) for t in targets]
    plan += [VariantSpec(name, targets[0], tuple(items)) for name, items in variants]
    names = [v.name for v in plan]
    if len(set(names)) != len(names):
        raise ConfigError(f"compare: variant names must differ, got {', '.join(names)}")
    return plan


def _label(target: str) -> str:
    return Path(target).stem if target.endswith((".yaml", ".yml", ".json")) else target


def read_saved(path: str) -> dict[str, Any]:
    """A saved ``fpnscope inspect --json`` report."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{path}: no such file")
    if file.stat().st_size > MAX_REPORT_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_REPORT_BYTES:,} bytes; not a saved fpnscope report")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: not JSON ({err})") from None
    command = (data.get("tool") or {}).get("command") if isinstance(data, dict) else None
    if command != "inspect" or not all(k in data for k in ("params", "macs", "flops", "levels")):
        raise ConfigError(f"{path}: not a saved `fpnscope inspect --json` report")
    return data


def load_variant(spec: VariantSpec, sets: Sequence[str]) -> LoadedConfig:
    """The configuration of one variant: the target, ``sets`` and the variant's own overrides."""
    transform = None
    if spec.neck_kind is not None:
        kind = spec.neck_kind

        def transform(raw: dict[str, Any]) -> dict[str, Any]:
            return {**raw, "neck": swap_neck(raw.get("neck") or {}, kind)}

    origins = ["--set"] * len(sets) + [f"--variant {spec.name!r}:"] * len(spec.overrides)
    return load_config(spec.target, [*sets, *spec.overrides], transform, origins)


def compare_models(
    plan: Sequence[VariantSpec],
    sets: Sequence[str] = (),
    *,
    profile: ProfileSettings | None = None,
    device: str = "auto",
    metric: str = "macs",
    check: Callable[[LoadedConfig, VariantSpec], None] | None = None,
    on_variant: Callable[[int, int, str], None] | None = None,
) -> CompareReport:
    """Analyse every variant; one that fails to build or run keeps its error in its row.

    >>> plan = plan_variants(["synthetic_fpn"], ["fpn", "pafpn"])
    >>> report = compare_models(plan, ["input.height=64", "input.width=64"])
    >>> [(v.name, v.status) for v in report.variants], report.delta(report.variants[1], "params") > 0
    ([('fpn', 'ok'), ('pafpn', 'ok')], True)
    """
    from fpnscope.analysis.pipeline import inspect_model

    results: list[VariantResult] = []
    for i, spec in enumerate(plan):
        if on_variant is not None:
            on_variant(i, len(plan), spec.name)
        if spec.target.endswith(".json") and not spec.overrides:
            results.append(VariantResult.from_inspect(spec.name, spec.target, read_saved(spec.target)))
            continue
        loaded = load_variant(spec, sets)
        if check is not None:
            check(loaded, spec)
        source = spec.target + (f" with neck {spec.neck_kind}" if spec.neck_kind else "")
        source += "".join(f" {o}" for o in spec.overrides)
        try:
            result = VariantResult.from_inspect(spec.name, source, inspect_model(loaded).to_dict())
            if profile is not None:
                from fpnscope.analysis.profile import profile_model

                timed = profile_model(loaded, device, profile).points[0]
                if timed.status == "ok":
                    result.latency_ms = timed.stages["model"].timing.median_ms
                    result.throughput_ips = timed.stages["model"].throughput_ips
        except BuildError as err:
            result = VariantResult(spec.name, source, status="error", error=str(err))
        results.append(result)
    if on_variant is not None:
        on_variant(len(plan), len(plan), "done")
    return CompareReport(results, metric)
