"""Anchor-free decoupled YOLO heads: YOLOv8's Detect (with DFL) and YOLOX's head."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.config.heads import YoloDetectHeadConfig, YOLOXHeadConfig
from fpnscope.models.blocks import ConvNormAct, set_batchnorm
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec

_CONV: dict[str, Any] = {"norm": "bn", "act": "silu"}  # ultralytics' and YOLOX's Conv / BaseConv


class DFL(nn.Conv2d):
    """Distribution focal loss integral (Li et al. 2020): the expectation of a softmax over
    ``reg_max`` bins, as a frozen 1x1 conv with weights ``0..reg_max-1``.

    Ultralytics keeps these weights as a parameter with ``requires_grad=False``, so its parameter
    count includes them (yolov8n: 3,157,200 parameters, 3,157,184 trainable); so does this one.
    """

    def __init__(self, reg_max: int) -> None:
        super().__init__(reg_max, 1, 1, bias=False)
        self.reg_max = reg_max
        self.requires_grad_(False)
        with torch.no_grad():
            self.weight.copy_(torch.arange(reg_max, dtype=self.weight.dtype).view(1, reg_max, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 4 * reg_max, H, W)`` bin logits in, ``(N, 4, H, W)`` expected distances out."""
        n, _, h, w = x.shape
        # ultralytics' layout: (N, 4, reg_max, A) -> softmax over the bins -> (N, reg_max, 4, A)
        bins = x.view(n, 4, self.reg_max, h * w).transpose(2, 1).softmax(1)
        return super().forward(bins).view(n, 4, h, w)


def _branch(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(ConvNormAct(cin, hidden, 3, **_CONV), ConvNormAct(hidden, hidden, 3, **_CONV),
                         nn.Conv2d(hidden, cout, 1))


class DetectHead(nn.Module):
    """YOLOv8's Detect head: per level, not shared, a box branch (two 3x3 Conv to
    ``max(16, ch[0] // 4, 4 * reg_max)``, 1x1 to ``4 * reg_max``) and a class branch (two 3x3 Conv
    to ``max(ch[0], min(nc, 100))``, 1x1 to ``nc``), then DFL.

    Outputs per level: ``box`` (the bin logits), ``cls`` (class logits) and ``dist`` (DFL's
    expected distances in strides; decoding them against the anchor points is element-wise work,
    left out).
    """

    def __init__(self, *, in_channels: Sequence[int], num_classes: int, reg_max: int) -> None:
        super().__init__()
        box_width = max(16, in_channels[0] // 4, 4 * reg_max)
        cls_width = max(in_channels[0], min(num_classes, 100))
        self.box_branch = nn.ModuleList(_branch(c, box_width, 4 * reg_max) for c in in_channels)
        self.cls_branch = nn.ModuleList(_branch(c, cls_width, num_classes) for c in in_channels)
        self.dfl = DFL(reg_max)

    def forward(self, levels: list[Tensor]) -> dict[str, list[Tensor]]:
        box = [branch(x) for branch, x in zip(self.box_branch, levels)]
        cls = [branch(x) for branch, x in zip(self.cls_branch, levels)]
        return {"box": box, "cls": cls, "dist": [self.dfl(b) for b in box]}


class YOLOXHead(nn.Module):
    """Per level, not shared: a 1x1 stem to ``channels``, class and box branches of two 3x3 Conv;
    1x1 predictors to ``A·K`` class logits, ``4A`` box offsets and ``A`` objectness logits.
    Outputs ``cls``, ``box`` and ``obj``, one map per level."""

    def __init__(self, *, in_channels: Sequence[int], channels: int, num_classes: int, num_anchors: int,
                 prior_probability: float) -> None:
        super().__init__()

        def branch() -> nn.Sequential:
            return nn.Sequential(*(ConvNormAct(channels, channels, 3, **_CONV) for _ in range(2)))

        self.stems = nn.ModuleList(ConvNormAct(c, channels, 1, **_CONV) for c in in_channels)
        self.cls_convs = nn.ModuleList(branch() for _ in in_channels)
        self.reg_convs = nn.ModuleList(branch() for _ in in_channels)
        self.cls_preds = nn.ModuleList(nn.Conv2d(channels, num_anchors * num_classes, 1) for _ in in_channels)
        self.box_preds = nn.ModuleList(nn.Conv2d(channels, num_anchors * 4, 1) for _ in in_channels)
        self.obj_preds = nn.ModuleList(nn.Conv2d(channels, num_anchors, 1) for _ in in_channels)
        prior = -math.log((1 - prior_probability) / prior_probability)  # YOLOX's initialize_biases
        for pred in [*self.cls_preds, *self.obj_preds]:
            nn.init.constant_(pred.bias, prior)

    def forward(self, levels: list[Tensor]) -> dict[str, list[Tensor]]:
        out: dict[str, list[Tensor]] = {"cls": [], "box": [], "obj": []}
        for i, x in enumerate(levels):
            x = self.stems[i](x)
            reg = self.reg_convs[i](x)
            out["cls"].append(self.cls_preds[i](self.cls_convs[i](x)))
            out["box"].append(self.box_preds[i](reg))
            out["obj"].append(self.obj_preds[i](reg))
        return out


def build_yolo_detect_head(
    in_specs: Sequence[LevelSpec], options: YoloDetectHeadConfig | None = None, **overrides: Any
) -> DetectHead:
    """YOLOv8's Detect over any levels (yolov8n's P3-P5: 64/128/256 channels, 897,664 parameters).

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_yolo_detect_head([LevelSpec.of("P", c, s) for c, s in ((64, 8), (128, 16), (256, 32))])
    >>> sum(p.numel() for p in head.parameters())
    897664
    """
    opts = resolve_options(YoloDetectHeadConfig, options, overrides)
    head = DetectHead(in_channels=[s.channels for s in in_specs], num_classes=opts.num_classes, reg_max=opts.reg_max)
    set_batchnorm(head, opts.bn_eps, opts.bn_momentum)
    return head


def build_yolox_head(in_specs: Sequence[LevelSpec], options: YOLOXHeadConfig | None = None, **overrides: Any) -> YOLOXHead:
    """YOLOX's head over any levels (YOLOX-s: 128/256/512 channels, ``channels=128``: 1,920,895 parameters).

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_yolox_head([LevelSpec.of("P", c, s) for c, s in ((128, 8), (256, 16), (512, 32))], channels=128)
    >>> sum(p.numel() for p in head.parameters())
    1920895
    """
    opts = resolve_options(YOLOXHeadConfig, options, overrides)
    head = YOLOXHead(in_channels=[s.channels for s in in_specs], channels=opts.channels, num_classes=opts.num_classes,
                     num_anchors=opts.num_anchors, prior_probability=opts.prior_probability)
    set_batchnorm(head, opts.bn_eps, opts.bn_momentum)
    return head
