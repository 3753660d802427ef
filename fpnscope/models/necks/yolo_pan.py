"""The YOLOv8 neck: top-down upsample + concat + C2f, then bottom-up stride-2 conv + concat + C2f."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.config.necks import YoloPANNeck
from fpnscope.errors import BuildError
from fpnscope.models.blocks import ConvNormAct, align_to, resize_to, set_batchnorm
from fpnscope.models.options import conv_options, resolve_options
from fpnscope.spec import LevelSpec


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round up to a multiple of ``divisor`` (YOLOv8's channel rounding).

    >>> make_divisible(512 * 0.25), make_divisible(1024 * 0.25)
    (128, 256)
    """
    return int(math.ceil(value / divisor) * divisor)


def scale_widths(widths: Sequence[int], width_multiple: float, max_channels: int) -> list[int]:
    """Ultralytics' channel rule: ``make_divisible(min(c, max_channels) * width_multiple, 8)``.

    >>> scale_widths((64, 128, 256, 512, 1024), 0.25, 1024), scale_widths((512, 1024), 0.75, 768)
    ([16, 32, 64, 128, 256], [384, 576])
    """
    return [make_divisible(min(c, max_channels) * width_multiple) for c in widths]


def scale_repeats(repeats: int, depth_multiple: float) -> int:
    """Ultralytics' depth rule: ``max(round(n * depth_multiple), 1)``, for ``n > 1``.

    >>> [scale_repeats(n, 0.33) for n in (3, 6, 6, 3)], scale_repeats(1, 0.33)
    ([1, 2, 2, 1], 1)
    """
    return max(round(repeats * depth_multiple), 1) if repeats > 1 else repeats


class Bottleneck(nn.Module):
    """Two 3x3 Conv-BN-act blocks, with a residual when ``shortcut`` (off in the YOLOv8 neck)."""

    def __init__(self, channels: int, shortcut: bool, conv: dict[str, Any]) -> None:
        super().__init__()
        self.cv1 = ConvNormAct(channels, channels, 3, **conv)
        self.cv2 = ConvNormAct(channels, channels, 3, **conv)
        self.shortcut = shortcut

    def forward(self, x: Tensor) -> Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.shortcut else y


class C2f(nn.Module):
    """1x1 conv to 2c, split in two, n bottlenecks each appending its output, concat (2 + n)c, 1x1 to c2."""

    def __init__(self, c1: int, c2: int, n: int, conv: dict[str, Any], shortcut: bool = False) -> None:
        super().__init__()
        self.c = c2 // 2
        self.cv1 = ConvNormAct(c1, 2 * self.c, 1, **conv)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut, conv) for _ in range(n))
        self.cv2 = ConvNormAct((2 + n) * self.c, c2, 1, **conv)

    def forward(self, x: Tensor) -> Tensor:
        ys = list(self.cv1(x).chunk(2, dim=1))
        for block in self.m:
            ys.append(block(ys[-1]))
        return self.cv2(torch.cat(ys, dim=1))


class YoloPAN(nn.Module):
    """The 'head' section of ultralytics' yolov8.yaml without Detect, over three levels C3, C4, C5.

    ``widths`` are the output widths of P3, P4, P5 after the width multiplier.
    """

    def __init__(
        self, in_channels: Sequence[int], widths: Sequence[int], repeats: int, *, upsample: str, conv: dict[str, Any]
    ) -> None:
        super().__init__()
        c3, c4, c5 = in_channels
        w3, w4, w5 = widths
        self.upsample = upsample
        self.td4 = C2f(c5 + c4, w4, repeats, conv)  # up(C5) ‖ C4
        self.out3 = C2f(w4 + c3, w3, repeats, conv)  # up(td4) ‖ C3
        self.down3 = ConvNormAct(w3, w3, 3, 2, **conv)
        self.out4 = C2f(w3 + w4, w4, repeats, conv)  # down(out3) ‖ td4
        self.down4 = ConvNormAct(w4, w4, 3, 2, **conv)
        self.out5 = C2f(w4 + c5, w5, repeats, conv)  # down(out4) ‖ C5

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        """C3, C4, C5 in; P3, P4, P5 out."""
        x3, x4, x5 = feats
        td4 = self.td4(torch.cat([resize_to(x5, x4, self.upsample), x4], dim=1))
        out3 = self.out3(torch.cat([resize_to(td4, x3, self.upsample), x3], dim=1))
        out4 = self.out4(torch.cat([align_to(self.down3(out3), td4), td4], dim=1))
        out5 = self.out5(torch.cat([align_to(self.down4(out4), x5), x5], dim=1))
        return [out3, out4, out5]


def build_yolo_pan(
    in_specs: Sequence[LevelSpec], options: YoloPANNeck | None = None, **overrides: Any
) -> tuple[YoloPAN, list[LevelSpec]]:
    """Build the YOLOv8 neck; ``channels`` are yolov8.yaml's base widths before the multipliers.

    >>> from fpnscope.spec import LevelSpec
    >>> m, out = build_yolo_pan([LevelSpec.of("C", c, s) for c, s in ((64, 8), (128, 16), (256, 32))])
    >>> [(s.name, s.channels) for s in out], len(m.out3.m)
    ([('P3', 64), ('P4', 128), ('P5', 256)], 1)
    """
    opts = resolve_options(YoloPANNeck, options, overrides)
    if len(in_specs) != 3:
        raise BuildError(
            f"neck: yolo_pan fuses exactly three levels (C3, C4, C5) but gets {len(in_specs)} "
            f"({', '.join(s.name for s in in_specs)}); set neck.in_features to three of them",
            key="neck.in_features",
        )
    widths = scale_widths(opts.channels, opts.width_multiple, opts.max_channels)
    n = scale_repeats(opts.repeats, opts.depth_multiple)
    module = YoloPAN([s.channels for s in in_specs], widths, n, upsample=opts.upsample, conv=conv_options(opts))
    set_batchnorm(module, opts.bn_eps, opts.bn_momentum)
    return module, [LevelSpec.of("P", w, s.stride) for w, s in zip(widths, in_specs)]
