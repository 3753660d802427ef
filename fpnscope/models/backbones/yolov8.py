"""The YOLOv8 backbone (ultralytics ``cfg/models/v8/yolov8.yaml``, layers 0-9): CSP-Darknet with
C2f blocks and SPPF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.config.backbones import YOLOv8Backbone
from fpnscope.models.blocks import ConvNormAct, set_batchnorm
from fpnscope.models.context import BuildContext
from fpnscope.models.necks.yolo_pan import C2f, scale_repeats, scale_widths
from fpnscope.spec import LevelSpec

STAGE_STRIDES = (4, 8, 16, 32)


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: a 1x1 Conv to half the channels, three chained ``k x k``
    stride-1 max-pools (equal to SPP's parallel 5, 9, 13), the four concatenated, a 1x1 Conv to ``c2``."""

    def __init__(self, c1: int, c2: int, kernel_size: int, conv: dict[str, Any]) -> None:
        super().__init__()
        hidden = c1 // 2
        self.cv1 = ConvNormAct(c1, hidden, 1, **conv)
        self.cv2 = ConvNormAct(4 * hidden, c2, 1, **conv)
        self.m = nn.MaxPool2d(kernel_size, stride=1, padding=kernel_size // 2)

    def forward(self, x: Tensor) -> Tensor:
        ys = [self.cv1(x)]
        for _ in range(3):
            ys.append(self.m(ys[-1]))
        return self.cv2(torch.cat(ys, dim=1))


class YOLOv8Features(nn.Module):
    """A stride-2 3x3 stem, four stages of a stride-2 3x3 Conv and a C2f with residual bottlenecks,
    SPPF on the last; returns C2..C5 (C5 after SPPF), the maps yolov8.yaml's layers 2, 4, 6 and 9 give.

    ``widths`` are the stem's and the stages' widths, ``repeats`` the stages' C2f depths, both
    after the multiples.
    """

    def __init__(self, widths: Sequence[int], repeats: Sequence[int], *, sppf_kernel: int, conv: dict[str, Any]) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, widths[0], 3, 2, **conv)
        self.stages = nn.ModuleList(
            nn.Sequential(ConvNormAct(cin, cout, 3, 2, **conv), C2f(cout, cout, n, conv, shortcut=True))
            for cin, cout, n in zip(widths[:-1], widths[1:], repeats)
        )
        self.sppf = SPPF(widths[-1], widths[-1], sppf_kernel, conv)

    def forward(self, x: Tensor) -> list[Tensor]:
        """C2..C5, finest first."""
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        feats[-1] = self.sppf(feats[-1])
        return feats


def build_yolov8(cfg: YOLOv8Backbone, context: BuildContext = BuildContext()) -> tuple[YOLOv8Features, list[LevelSpec]]:
    """Build the backbone of one YOLOv8 scale from its multiples (yolov8n: depth 0.33, width 0.25).

    BatchNorms get ultralytics' eps and momentum (1e-3, 0.03), which eval-mode outputs depend on.

    >>> _, specs = build_yolov8(YOLOv8Backbone(width_multiple=0.5))
    >>> [(s.name, s.channels) for s in specs]
    [('C2', 64), ('C3', 128), ('C4', 256), ('C5', 512)]
    """
    widths = scale_widths(cfg.channels, cfg.width_multiple, cfg.max_channels)
    repeats = [scale_repeats(n, cfg.depth_multiple) for n in cfg.repeats]
    module = YOLOv8Features(widths, repeats, sppf_kernel=cfg.sppf_kernel, conv={"norm": "bn", "act": "silu"})
    set_batchnorm(module, cfg.bn_eps, cfg.bn_momentum)
    return module, [LevelSpec.of("C", c, s) for c, s in zip(widths[1:], STAGE_STRIDES)]
