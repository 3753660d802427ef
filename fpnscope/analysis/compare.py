"""``compare``: several models, or one model with several necks or overrides, side by side.

Every variant is analysed as ``inspect`` analyses it (on meta, the backbone once for all variants
that share it, through a cache this call owns), or read from a saved ``inspect --json`` report;
with profile settings, the latency of the whole model comes from the profile harness.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpnscope.config.loader import LoadedConfig, load_config
from fpnscope.config.overrides import Override
from fpnscope.config.trust import require_trust
from fpnscope.config.variants import swap_neck
from fpnscope.errors import BuildError, ConfigError
from fpnscope.reports.common import SCHEMA_VERSION
from fpnscope.reports.compare import CompareReport, VariantResult
from fpnscope.reports.compat import schema_version, upgrade_inspect
from fpnscope.reports.profile import ProfileSettings

MAX_REPORT_BYTES = 20_000_000


@dataclass(frozen=True)
class VariantSpec:
    """How to get one variant: a target, overrides, and maybe another neck kind."""

    name: str
    target: str | dict[str, Any] | LoadedConfig
    overrides: tuple[Override, ...] = ()
    neck_kind: str | None = None

    @property
    def saved(self) -> bool:
        """A saved report rather than a model to analyse."""
        return isinstance(self.target, str) and self.target.endswith(".json") and not self.overrides


def plan_variants(
    targets: Sequence[str | dict[str, Any] | LoadedConfig],
    necks: Sequence[str] = (),
    variants: Sequence[tuple[str, Sequence[Override]]] = (),
) -> list[VariantSpec]:
    """``necks`` swap the first target's neck kind; ``variants`` derive from the first target.

    >>> [v.name for v in plan_variants(["resnet50_fpn"], ["fpn", "pafpn"], [("wide", [Override("neck.out_channels", 512)])])]
    ['fpn', 'pafpn', 'wide']
    """
    if not targets:
        raise ConfigError("compare: name at least one preset, YAML file or saved report")
    first = targets[0]
    if necks and len(targets) != 1:
        raise ConfigError("«necks» compares neck kinds on one model: give exactly one target with it", option="necks")
    if (necks or variants) and isinstance(first, str) and first.endswith(".json"):
        raise ConfigError(f"«necks» and «variants» need a preset or YAML file to derive from, not the report {first}")
    if necks:
        for kind in necks:
            swap_neck({}, kind)  # an unknown kind is refused before anything is built
        plan = [VariantSpec(kind, first, neck_kind=kind) for kind in necks]
    else:
        labels = [_label(t, i) for i, t in enumerate(targets)]
        # two files of one name (one/model.yaml, two/model.yaml) are told apart by their folder
        labels = [_folder_label(t) if labels.count(label) > 1 and isinstance(t, str) and _is_file(t) else label
                  for t, label in zip(targets, labels)]
        plan = [VariantSpec(label, t) for label, t in zip(labels, targets)]
    plan += [VariantSpec(name, first, tuple(items)) for name, items in variants]
    names = [v.name for v in plan]
    if len(set(names)) != len(names):
        raise ConfigError(f"compare: variant names must differ, got {', '.join(names)}")
    return plan


def _label(target: str | dict[str, Any] | LoadedConfig, index: int) -> str:
    if isinstance(target, LoadedConfig):
        return target.name
    if isinstance(target, dict):
        return str(target.get("name") or f"model {index + 1}")
    return Path(target).stem if _is_file(target) else target


def _is_file(target: str) -> bool:
    return target.endswith((".yaml", ".yml", ".json"))


def _folder_label(target: str) -> str:
    path = Path(target).resolve()
    return f"{path.parent.name}/{path.stem}"


def read_saved(path: str) -> dict[str, Any]:
    """A saved ``fpnscope inspect --json`` report, brought to today's layout."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{path}: no such file", file=path)
    if file.stat().st_size > MAX_REPORT_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_REPORT_BYTES:,} bytes; not a saved fpnscope report", file=path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: not JSON ({err})", file=path) from None
    command = (data.get("tool") or {}).get("command") if isinstance(data, dict) else None
    if command != "inspect" or not all(k in data for k in ("params", "macs", "flops", "levels")):
        raise ConfigError(f"{path}: not a saved `fpnscope inspect --json` report", file=path)
    if schema_version(data) > SCHEMA_VERSION:
        raise ConfigError(f"{path}: written by a newer fpnscope (report layout {data['schema_version']}, this one "
                          f"reads up to {SCHEMA_VERSION}); upgrade fpnscope to compare it", file=path)
    return upgrade_inspect(data)


def load_variant(spec: VariantSpec, sets: Sequence[Override]) -> LoadedConfig:
    """The configuration of one variant: the target, ``sets`` and the variant's own overrides."""
    transform = None
    if spec.neck_kind is not None:
        kind = spec.neck_kind

        def transform(raw: dict[str, Any]) -> dict[str, Any]:
            return {**raw, "neck": swap_neck(raw.get("neck") or {}, kind)}

    return load_config(spec.target, [*sets, *spec.overrides], transform)


def compare_models(
    plan: Sequence[VariantSpec],
    sets: Sequence[Override] = (),
    *,
    profile: ProfileSettings | None = None,
    device: str = "auto",
    metric: str = "macs",
    allow_python: bool = False,
    on_variant: Callable[[int, int, str], None] | None = None,
) -> CompareReport:
    """Analyse every variant; one that fails to build or run keeps its error in its row.

    >>> plan = plan_variants(["synthetic_fpn"], ["fpn", "pafpn"])
    >>> report = compare_models(plan, [Override("input.height", 64), Override("input.width", 64)])
    >>> [(v.name, v.status) for v in report.variants], report.delta(report.variants[1], "params") > 0
    ([('fpn', 'ok'), ('pafpn', 'ok')], True)
    """
    from fpnscope.analysis.inspect import inspect_model
    from fpnscope.analysis.measure.run import BackboneCache

    cache = BackboneCache()  # this call's own: variants that share a backbone measure it once
    results: list[VariantResult] = []
    for i, spec in enumerate(plan):
        if on_variant is not None:
            on_variant(i, len(plan), spec.name)
        if spec.saved:
            assert isinstance(spec.target, str)
            results.append(VariantResult.from_inspect(spec.name, spec.target, read_saved(spec.target)))
            continue
        loaded = load_variant(spec, sets)
        require_trust(loaded, allow_python)
        source = _describe(spec, loaded)
        try:
            result = VariantResult.from_inspect(spec.name, source, inspect_model(loaded, cache=cache).to_dict())
            if profile is not None:
                from fpnscope.analysis.profile.run import profile_model

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


def _describe(spec: VariantSpec, loaded: LoadedConfig) -> str:
    """Where a variant came from, as its row's source says."""
    source = loaded.source.label if not isinstance(spec.target, str) else spec.target
    source += f" with neck {spec.neck_kind}" if spec.neck_kind else ""
    return source + "".join(f" {o.key}={o.value}" for o in spec.overrides)
