"""Any timm model with ``features_only=True``, random weights, nothing downloaded."""

from __future__ import annotations

from typing import Any

import timm
from torch import Tensor, nn

from fpnscope.config.backbones import TimmBackbone
from fpnscope.errors import BuildError
from fpnscope.models.context import BuildContext
from fpnscope.spec import LevelSpec
from fpnscope.suggest import did_you_mean


class TimmFeatures(nn.Module):
    """A timm feature extractor whose outputs are always a list of NCHW maps.

    Some timm models (Swin, for one) return channels-last features; they are permuted here so
    every neck sees NCHW.
    """

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body
        self.channels_last = str(getattr(body, "output_fmt", "NCHW")).endswith("NHWC")

    def forward(self, x: Tensor) -> list[Tensor]:
        """Feature maps, finest first."""
        feats = self.body(x)
        feats = list(feats.values()) if isinstance(feats, dict) else list(feats)
        if self.channels_last:
            feats = [f.permute(0, 3, 1, 2) for f in feats]
        return feats


def build_timm(cfg: TimmBackbone, context: BuildContext = BuildContext()) -> tuple[TimmFeatures, list[LevelSpec]]:
    """Build ``timm.create_model(name, features_only=True)``; specs come from its ``feature_info``.

    ``img_size: auto`` builds the model for the input the context names.

    >>> _, specs = build_timm(TimmBackbone(kind="timm", name="resnet18", out_indices=[3, 4]))
    >>> specs
    [LevelSpec(name='C4', channels=256, stride=16), LevelSpec(name='C5', channels=512, stride=32)]
    """
    if not timm.is_model(cfg.name):
        hint = did_you_mean(cfg.name, timm.list_models())
        raise BuildError(
            f"backbone.name: timm has no model '{cfg.name}'"
            + (f"; {hint}" if hint else "; list them with `python -c \"import timm; print(timm.list_models('*name*'))\"`")
        )
    kwargs = dict(cfg.kwargs)
    kwargs.update(features_only=True, pretrained=False)
    if cfg.out_indices is not None:
        kwargs["out_indices"] = tuple(cfg.out_indices)
    if cfg.img_size == "auto" and context.input_hw is not None:
        kwargs["img_size"] = tuple(context.input_hw)
    elif isinstance(cfg.img_size, tuple):
        kwargs["img_size"] = cfg.img_size
    try:
        body = timm.create_model(cfg.name, **kwargs)
    except Exception as err:  # timm raises many types for unsupported options
        raise BuildError(
            f"backbone: timm could not build '{cfg.name}' with features_only"
            f"{' and out_indices ' + str(list(cfg.out_indices)) if cfg.out_indices else ''}: "
            f"{type(err).__name__}: {err}{_indices_hint(cfg.name, kwargs) if cfg.out_indices else ''}",
            key="backbone.out_indices" if cfg.out_indices else None,
        ) from None
    info: Any = body.feature_info  # timm's FeatureInfo
    specs = [LevelSpec.of("C", c, s) for c, s in zip(info.channels(), info.reduction())]
    return TimmFeatures(body), specs


def _indices_hint(name: str, kwargs: dict[str, Any]) -> str:
    """The feature levels the model has, when it builds without ``out_indices``: what they may name."""
    try:
        info: Any = timm.create_model(name, **{k: v for k, v in kwargs.items() if k != "out_indices"}).feature_info
    except Exception:
        return ""
    levels = " · ".join(f"{i}: stride {s}, {c} channels" for i, (c, s) in enumerate(zip(info.channels(), info.reduction())))
    return f"; out_indices are 0 to {len(info.channels()) - 1} for it ({levels})"
