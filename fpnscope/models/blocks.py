"""Small building blocks shared by the necks."""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn


def make_norm(norm: str, channels: int, gn_groups: int = 32) -> nn.Module | None:
    """``"bn"`` -> BatchNorm2d, ``"gn"`` -> GroupNorm, ``"ln"`` -> channel LayerNorm, ``"none"`` -> None."""
    if norm == "bn":
        return nn.BatchNorm2d(channels)
    if norm == "gn":
        return nn.GroupNorm(gn_groups, channels)
    if norm == "ln":
        return LayerNorm2d(channels)
    if norm == "none":
        return None
    raise ValueError(f"unknown norm {norm!r}")


def make_act(act: str) -> nn.Module | None:
    """``"relu"`` / ``"silu"`` / ``"gelu"`` -> the module, ``"none"`` -> None."""
    if act == "relu":
        return nn.ReLU()
    if act == "silu":
        return nn.SiLU()
    if act == "gelu":
        return nn.GELU()
    if act == "none":
        return None
    raise ValueError(f"unknown activation {act!r}")


def _then_norm_act(
    layers: OrderedDict[str, nn.Module], norm_layer: nn.Module | None, act: str
) -> OrderedDict[str, nn.Module]:
    """Append the norm (when there is one) and the activation (when asked) to a conv's layers."""
    if norm_layer is not None:
        layers["norm"] = norm_layer
    act_layer = make_act(act)
    if act_layer is not None:
        layers["act"] = act_layer
    return layers


class ConvNormAct(nn.Sequential):
    """Conv2d, then an optional norm and activation, as children ``conv``, ``norm``, ``act``.

    The conv has a bias exactly when no norm follows it (the torchvision / mmcv / detectron2
    rule), so parameter counts match those libraries; ``bias`` overrides that for the few that
    keep it before a norm (torchvision's FCOS towers). Padding keeps the size at stride 1, also
    when dilated (ASPP).

    >>> ConvNormAct(256, 128, 3, norm="gn").conv.bias is None
    True
    >>> ConvNormAct(256, 128, 3, norm="gn", bias=True).conv.bias.shape
    torch.Size([128])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        *,
        norm: str = "none",
        act: str = "none",
        gn_groups: int = 32,
        dilation: int = 1,
        bias: bool | None = None,
    ) -> None:
        norm_layer = make_norm(norm, out_channels, gn_groups)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=dilation * (kernel_size // 2),
            dilation=dilation,
            bias=norm_layer is None if bias is None else bias,
        )
        super().__init__(_then_norm_act(layers, norm_layer, act))


def resize_to(x: Tensor, like: Tensor, mode: str) -> Tensor:
    """Resize ``x`` to the exact spatial size of ``like`` (never a scale factor, so 84 -> 167 works)."""
    size = like.shape[-2:]
    if x.shape[-2:] == size:
        return x
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode=mode, align_corners=False)


class SeparableConvNorm(nn.Sequential):
    """Depthwise ``k x k`` conv, pointwise 1x1 conv, then an optional norm and activation.

    The depthwise conv never has a bias; the pointwise one has a bias exactly when no norm follows,
    unless ``bias`` says otherwise (a head's towers put the norm outside, per level).

    >>> sum(p.numel() for p in SeparableConvNorm(64, 64, norm="bn").parameters())  # 576 + 4096 + 128
    4800
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        *,
        norm: str = "none",
        act: str = "none",
        gn_groups: int = 32,
        bias: bool | None = None,
    ) -> None:
        norm_layer = make_norm(norm, out_channels, gn_groups)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["dw"] = nn.Conv2d(
            in_channels, in_channels, kernel_size, stride, kernel_size // 2, groups=in_channels, bias=False
        )
        layers["pw"] = nn.Conv2d(in_channels, out_channels, 1, bias=norm_layer is None if bias is None else bias)
        super().__init__(_then_norm_act(layers, norm_layer, act))


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (ViTDet's and ConvNeXt's channel LayerNorm)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def align_to(x: Tensor, like: Tensor) -> Tensor:
    """Nearest-resize ``x`` to ``like``'s size when a strided op rounded differently (166 vs 167)."""
    return x if x.shape[-2:] == like.shape[-2:] else F.interpolate(x, size=like.shape[-2:], mode="nearest")


def set_batchnorm(module: nn.Module, eps: float, momentum: float) -> nn.Module:
    """Set ``eps`` and ``momentum`` of every BatchNorm2d inside ``module`` and return it.

    Ultralytics and YOLOX build their BatchNorms with PyTorch's defaults and then set eps=1e-3
    and momentum=0.03 on all of them; eps changes eval-mode outputs, so copied weights need it.

    >>> set_batchnorm(nn.Sequential(nn.BatchNorm2d(4)), 1e-3, 0.03)[0].eps
    0.001
    """
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps, m.momentum = eps, momentum
    return module
