"""The only place where a validated config becomes modules: each stage's builder is found in the
kinds table, called with the stage's options, and the built module is told what it produces."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from fpnscope.config.kinds import KINDS
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError, LevelNotFound
from fpnscope.models.context import BuildContext
from fpnscope.models.model import PyramidModel, StagePlan
from fpnscope.spec import LevelSpec
from fpnscope.suggest import did_you_mean

__all__ = ["build_backbone", "build_head", "build_model", "build_neck", "builder", "select_levels"]


def builder(stage: str, kind: str) -> Callable[..., Any]:
    """The function that builds ``kind`` of ``stage``, imported on first use.

    >>> builder("neck", "fpn").__name__
    'build_fpn'
    """
    if stage == "model":  # the whole model a model: section names, whose parts are the stages
        from fpnscope.models.code import build_whole

        return build_whole
    table = KINDS[stage]
    if kind not in table:
        hint = did_you_mean(kind, table)
        raise BuildError(f"{stage}.kind: no {stage} '{kind}'{'; ' + hint if hint else ''} (known: {', '.join(table)})",
                         key=f"{stage}.kind", choices=list(table))
    module_name, _, name = table[kind].builder.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module_name), name)
    return found


def select_levels(
    wanted: Sequence[str] | None, specs: Sequence[LevelSpec], key: str, default_count: int | None = None
) -> list[int]:
    """Indices of the levels named by ``key`` (``neck.in_features`` or ``head.in_features``); by
    default all of them, or the ``default_count`` coarsest for a neck that reads a fixed number."""
    provider = "the backbone" if key.startswith("neck") else "the neck"
    names = [s.name for s in specs]
    if wanted is None:
        return list(range(len(specs)))[-default_count:] if default_count else list(range(len(specs)))
    indices = []
    for name in wanted:
        if name not in names:
            hint = did_you_mean(name, names, n=1)
            raise LevelNotFound(
                f"{key}: {provider} has no level '{name}'" + (f" ({hint})" if hint else "") + f"; it gives {', '.join(names)}",
                key=key, wanted=name, available=names,
            )
        indices.append(names.index(name))
    if len(set(indices)) != len(indices):
        raise BuildError(f"{key}: {list(wanted)} names a level twice", key=key)
    if indices != sorted(indices):
        fixed = ", ".join(names[i] for i in sorted(indices))
        raise BuildError(f"{key}: list levels finest first: [{fixed}]", key=key)
    return indices


def build_backbone(
    cfg: Any, base_dir: Path | None = None, input_hw: tuple[int, int] | None = None, model: Any = None
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """Build the backbone ``cfg`` names; ``input_hw`` is the size it will see (for models built for
    one size), ``base_dir`` where a user's module is looked up. Returns the module and the levels
    it declares (None when it declares none: they are measured).

    >>> from fpnscope.config.backbones import SyntheticBackbone
    >>> _, specs = build_backbone(SyntheticBackbone(channels=[64], strides=[8]))
    >>> specs
    [LevelSpec(name='C3', channels=64, stride=8)]
    """
    module, declared = builder("backbone", cfg.kind)(cfg, BuildContext(input_hw, base_dir, model))
    return module, declared


def build_neck(
    cfg: Any, in_specs: Sequence[LevelSpec], context: BuildContext = BuildContext()
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """Build the neck named by ``cfg.kind`` over ``in_specs`` (channels are always the real ones);
    the levels it says it makes, or None for a user's neck that does not say (they are measured)."""
    extra = (context,) if KINDS["neck"][cfg.kind].code else ()
    module, specs = builder("neck", cfg.kind)(list(in_specs), cfg, *extra)
    return module, specs


def build_head(cfg: Any, in_specs: Sequence[LevelSpec], context: BuildContext = BuildContext()) -> nn.Module:
    """Build the head named by ``cfg.kind`` over the pyramid levels it reads."""
    extra = (context,) if KINDS["head"][cfg.kind].code else ()
    module: nn.Module = builder("head", cfg.kind)(list(in_specs), cfg, *extra)
    return module


def build_model(
    cfg: PresetConfig, plan: StagePlan | None = None, base_dir: Path | None = None
) -> tuple[PyramidModel, list[LevelSpec], list[LevelSpec]]:
    """Build the whole model on the current default device.

    ``plan`` is how a measurement found the model wired (its levels as measured); without one, the
    stages' declared levels are used, which a user's neck that declares none does not allow.
    Returns the model, the backbone's levels and the neck's.

    >>> from fpnscope.config.loader import load_config
    >>> model, _, out = build_model(load_config("synthetic_fpn").config)
    >>> [s.name for s in out]
    ['P2', 'P3', 'P4', 'P5']
    """
    hw = (cfg.input.height, cfg.input.width)
    whole = builder("model", "whole")(cfg.model, BuildContext(hw, base_dir)) if cfg.model is not None else None
    backbone, declared = build_backbone(cfg.backbone, base_dir, hw, whole)
    specs = list(plan.backbone_specs if plan is not None else declared or [])
    if not specs:
        raise BuildError("backbone: declares no levels; measure it first (fpnscope inspect does)")
    indices = list(plan.neck_inputs) if plan is not None else select_levels(
        cfg.neck.in_features, specs, "neck.in_features", cfg.neck.traits.default_levels)
    context = BuildContext(hw, base_dir, whole)
    neck, declared_out = build_neck(cfg.neck, [specs[i] for i in indices], context)
    out_specs = list(plan.neck_specs) if plan is not None else list(declared_out or [])
    if not out_specs:
        raise BuildError("neck: declares no levels; measure it first (fpnscope inspect does)")
    head, head_inputs = None, None
    if cfg.head is not None:
        head_inputs = list(plan.head_inputs) if plan is not None and plan.head_inputs is not None else select_levels(
            cfg.head.in_features, out_specs, "head.in_features")
        head = build_head(cfg.head, [out_specs[i] for i in head_inputs], context)
    model = PyramidModel(
        backbone, neck, indices, head, head_inputs, neck_form=getattr(cfg.neck, "inputs", "list"),
        head_form=getattr(cfg.head, "inputs", "list"), neck_names=[specs[i].name for i in indices],
        head_names=[out_specs[i].name for i in head_inputs or []], order=plan.order if plan is not None else None,
    )
    return model, specs, out_specs
