"""Two-stage heads, as torchvision's Faster and Mask R-CNN: the RPN on every level, then RoI heads
whose cost is per RoI (``head.proposals`` for the box head, ``head.detections`` for the mask head)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.heads import FasterRCNNHeadConfig, MaskRCNNHeadConfig
from fpnscope.errors import BuildError
from fpnscope.models.assemble import select_levels
from fpnscope.models.blocks import ConvNormAct
from fpnscope.models.heads import shared_channels
from fpnscope.models.heads.roi import MultiScaleRoIAlign
from fpnscope.models.heads.rpn import RPNHead
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec, RoIStage

# torchvision pools P2-P5 and keeps P6 (max-pooled from P5) for the RPN alone
ROI_MAX_STRIDE = 32


class RoIBoxHead(nn.Module):
    """Multi-scale RoIAlign, flatten, two FC + ReLU to ``representation`` (torchvision's
    ``TwoMLPHead``), then class logits (``num_classes``, background included) and per-class box
    deltas (``FastRCNNPredictor``). Outputs ``roi_cls`` and ``roi_box``, one row per RoI.

    Without ``rois`` it pools ``num_rois`` synthetic boxes per image. R50-FPN's (256 channels,
    7x7, 1024, 91 classes): 13,895,680 + 466,375 parameters.
    """

    def __init__(self, *, channels: int, num_rois: int, pooler: MultiScaleRoIAlign, representation: int,
                 num_classes: int) -> None:
        super().__init__()
        self.num_rois = num_rois
        self.pooler = pooler
        self.fc1 = nn.Linear(channels * pooler.output_size**2, representation)
        self.fc2 = nn.Linear(representation, representation)
        self.cls_pred = nn.Linear(representation, num_classes)
        self.box_pred = nn.Linear(representation, 4 * num_classes)

    def predict(self, pooled: Tensor) -> dict[str, Tensor]:
        """The part after pooling: ``(K, C, P, P)`` in, ``(K, classes)`` and ``(K, 4·classes)`` out."""
        x = F.relu(self.fc2(F.relu(self.fc1(pooled.flatten(1)))))
        return {"roi_cls": self.cls_pred(x), "roi_box": self.box_pred(x)}

    def forward(self, levels: list[Tensor], rois: Tensor | None = None) -> dict[str, Tensor]:
        pooled = self.pooler.pool_synthetic(levels, self.num_rois) if rois is None else self.pooler(levels, rois)
        return self.predict(pooled)


class MaskHead(nn.Module):
    """Multi-scale RoIAlign (14x14), 3x3 conv (+ norm) + ReLU per width of ``conv_channels``
    (torchvision's ``MaskRCNNHeads``), a 2x2 stride-2 transposed conv + ReLU and a 1x1 conv to one
    mask per class (``MaskRCNNPredictor``). Output ``roi_mask``: ``(K, classes, 2P, 2P)``.

    R50-FPN's: four convs of 256, no norm (2,360,320 parameters), predictor 285,787.
    """

    def __init__(self, *, channels: int, num_rois: int, pooler: MultiScaleRoIAlign, conv_channels: Sequence[int],
                 dilation: int, norm: str, gn_groups: int, deconv_channels: int, num_classes: int) -> None:
        super().__init__()
        self.num_rois = num_rois
        self.pooler = pooler
        widths = [channels, *conv_channels]
        self.convs = nn.Sequential(*(
            ConvNormAct(cin, cout, 3, norm=norm, act="relu", gn_groups=gn_groups, dilation=dilation)
            for cin, cout in zip(widths[:-1], widths[1:])
        ))
        self.deconv = nn.ConvTranspose2d(widths[-1], deconv_channels, 2, stride=2)
        self.act = nn.ReLU()
        self.logits = nn.Conv2d(deconv_channels, num_classes, 1)

    def predict(self, pooled: Tensor) -> dict[str, Tensor]:
        """The part after pooling: ``(K, C, P, P)`` in, ``(K, classes, 2P, 2P)`` out."""
        return {"roi_mask": self.logits(self.act(self.deconv(self.convs(pooled))))}

    def forward(self, levels: list[Tensor], rois: Tensor | None = None) -> dict[str, Tensor]:
        pooled = self.pooler.pool_synthetic(levels, self.num_rois) if rois is None else self.pooler(levels, rois)
        return self.predict(pooled)


class TwoStageHead(nn.Module):
    """The RPN on every level, the RoI heads on the levels ``roi_inputs`` picks (P2-P5).

    ``roi_stages`` tell analysis which children run per RoI and on how many: their cost is
    reported per RoI and at that count, apart from the per-level costs.
    """

    def __init__(self, rpn: RPNHead, roi_inputs: Sequence[int], box_head: RoIBoxHead,
                 mask_head: MaskHead | None = None) -> None:
        super().__init__()
        self.rpn = rpn
        self.roi_inputs = list(roi_inputs)
        self.box_head = box_head
        self.mask_head = mask_head
        stages = [RoIStage("box head", "box_head", box_head.num_rois, "proposals")]
        if mask_head is not None:
            stages.append(RoIStage("mask head", "mask_head", mask_head.num_rois, "detections"))
        self.roi_stages = tuple(stages)

    def forward(self, levels: list[Tensor]) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.rpn(levels))
        roi_levels = [levels[i] for i in self.roi_inputs]
        out.update(self.box_head(roi_levels))
        if self.mask_head is not None:
            out.update(self.mask_head(roi_levels))
        return out


def _pooler(opts: FasterRCNNHeadConfig, specs: Sequence[LevelSpec], size: int) -> MultiScaleRoIAlign:
    if not specs:
        raise BuildError(f"head.roi_features: no level up to stride {ROI_MAX_STRIDE} to pool RoIs from; name the "
                         "levels, like [P2, P3, P4, P5]", key="head.roi_features")
    try:
        return MultiScaleRoIAlign(strides=[s.stride for s in specs], output_size=size, sampling_ratio=opts.sampling_ratio,
                                  aligned=opts.aligned, canonical_scale=opts.canonical_scale,
                                  canonical_level=opts.canonical_level)
    except ValueError:
        listed = ", ".join(f"{s.name} (stride {s.stride})" for s in specs)
        raise BuildError(
            f"head.roi_features: RoI pooling needs levels whose strides double, like P2-P5; got {listed}",
            key="head.roi_features",
        ) from None


def _parts(in_specs: Sequence[LevelSpec], opts: FasterRCNNHeadConfig) -> tuple[RPNHead, list[int], RoIBoxHead]:
    channels = shared_channels(in_specs, opts.kind)
    if opts.roi_features is None:
        roi_inputs = [i for i, s in enumerate(in_specs) if s.stride <= ROI_MAX_STRIDE]
    else:
        roi_inputs = select_levels(opts.roi_features, in_specs, "head.roi_features")
    box = RoIBoxHead(channels=channels, num_rois=opts.proposals, representation=opts.representation,
                     num_classes=opts.num_classes, pooler=_pooler(opts, [in_specs[i] for i in roi_inputs], opts.pool_size))
    return RPNHead(channels=channels, num_anchors=opts.num_anchors, conv_depth=opts.rpn_convs), roi_inputs, box


def build_faster_rcnn_head(
    in_specs: Sequence[LevelSpec], options: FasterRCNNHeadConfig | None = None, **overrides: Any
) -> TwoStageHead:
    """The RPN over ``in_specs`` and the box head over ``roi_features``.

    >>> from fpnscope.spec import LevelSpec, RoIStage
    >>> head = build_faster_rcnn_head([LevelSpec.of("P", 256, 2**i) for i in range(2, 7)])
    >>> [(s.label, s.rois_per_image) for s in head.roi_stages], head.roi_inputs
    ([('box head', 1000)], [0, 1, 2, 3])
    """
    opts = resolve_options(FasterRCNNHeadConfig, options, overrides)
    rpn, roi_inputs, box = _parts(in_specs, opts)
    return TwoStageHead(rpn, roi_inputs, box)


def build_mask_rcnn_head(
    in_specs: Sequence[LevelSpec], options: MaskRCNNHeadConfig | None = None, **overrides: Any
) -> TwoStageHead:
    """Faster R-CNN's head and the mask head over ``roi_features``.

    >>> from fpnscope.spec import LevelSpec, RoIStage
    >>> head = build_mask_rcnn_head([LevelSpec.of("P", 256, 2**i) for i in range(2, 7)], detections=50)
    >>> [(s.label, s.rois_per_image) for s in head.roi_stages]
    [('box head', 1000), ('mask head', 50)]
    """
    opts = resolve_options(MaskRCNNHeadConfig, options, overrides)
    rpn, roi_inputs, box = _parts(in_specs, opts)
    mask = MaskHead(
        channels=in_specs[0].channels, num_rois=opts.detections,
        pooler=_pooler(opts, [in_specs[i] for i in roi_inputs], opts.mask_pool_size), conv_channels=opts.mask_convs,
        dilation=opts.mask_dilation, norm=opts.mask_norm, gn_groups=opts.gn_groups,
        deconv_channels=opts.deconv_channels, num_classes=opts.num_classes,
    )
    return TwoStageHead(rpn, roi_inputs, box, mask)
