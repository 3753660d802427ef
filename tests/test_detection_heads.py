"""Two-stage and FCOS heads against torchvision: copied weights give equal outputs, counts are
exact, whole models match torchvision's builders, and RoI costs are reported apart."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn
from torchvision.models.detection import (
    FCOS,
    FasterRCNN,
    MaskRCNN,
    fasterrcnn_resnet50_fpn,
    fcos_resnet50_fpn,
    maskrcnn_resnet50_fpn,
)
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.fcos import FCOSHead as TorchvisionFCOSHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.rpn import RPNHead as TorchvisionRPNHead
from torchvision.ops import MultiScaleRoIAlign as TorchvisionRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

from fpnscope.analysis.inspect import inspect_model
from fpnscope.errors import HeadMismatch, LevelNotFound
from fpnscope.models.heads.fcos import build_fcos_head
from fpnscope.models.heads.rcnn import build_faster_rcnn_head, build_mask_rcnn_head
from fpnscope.models.heads.roi import MultiScaleRoIAlign, roi_level, synthetic_rois
from fpnscope.spec import LevelSpec
from tests.conftest import parse_json
from tests.helpers import load_config
from tests.reference import copy_into, macs, n_params, prefixed, randomize

P2_P6 = [LevelSpec.of("P", 256, 2**i) for i in range(2, 7)]
STRIDES = [4, 8, 16, 32]
RULE = {"canonical_scale": 224, "canonical_level": 4}
BOX_MACS_PER_ROI = 256 * 49 * 1024 + 1024 * 1024 + 1024 * 91 + 1024 * 364  # 14,359,552
# four 3x3 convs on 14x14, the 2x2 stride-2 deconvolution (each input pixel feeds a 2x2 block), 1x1 on 28x28
MASK_MACS_PER_ROI = 4 * 14 * 14 * 256 * 256 * 9 + 14 * 14 * 256 * 256 * 4 + 28 * 28 * 256 * 91  # 532,066,304


def pyramid(batch: int, channels: int, size: int = 64, count: int = 5) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(batch, channels, size >> (i + 2), size >> (i + 2), generator=g) for i in range(count)]


def torchvision_pool(levels: list[torch.Tensor], rois: torch.Tensor, size: int, image: int) -> torch.Tensor:
    pooler = TorchvisionRoIAlign(["0", "1", "2", "3"], size, 2)
    boxes = [rois[rois[:, 0] == b, 1:] for b in range(levels[0].shape[0])]
    return pooler({str(i): x for i, x in enumerate(levels)}, boxes, [(image, image)] * levels[0].shape[0])


# --- key maps: torchvision's names -> ours -------------------------------------------------------
def rpn_key(key: str) -> str:
    """``head.conv.0.0.*`` -> ``rpn.conv.0.conv.*``; ``cls_logits`` -> ``objectness``; ``bbox_pred`` -> ``deltas``."""
    key = re.sub(r"^conv\.(\d+)\.0\.", r"conv.\1.conv.", key)
    return "rpn." + re.sub(r"^cls_logits\.", "objectness.", re.sub(r"^bbox_pred\.", "deltas.", key))


BOX_KEYS = {"box_head.fc6.": "box_head.fc1.", "box_head.fc7.": "box_head.fc2.",
            "box_predictor.cls_score.": "box_head.cls_pred.", "box_predictor.bbox_pred.": "box_head.box_pred."}


def roi_key(key: str) -> str:
    """torchvision's ``roi_heads`` children (box head, box predictor, mask head, mask predictor) -> ours."""
    for old, new in BOX_KEYS.items():
        if key.startswith(old):
            return new + key[len(old):]
    if m := re.match(r"^mask_head\.(\d+)\.0\.(.*)$", key):
        return f"mask_head.convs.{m[1]}.conv.{m[2]}"
    key = re.sub(r"^mask_predictor\.conv5_mask\.", "mask_head.deconv.", key)
    return re.sub(r"^mask_predictor\.mask_fcn_logits\.", "mask_head.logits.", key)


def fcos_key(key: str) -> str:
    """The towers' flat ``conv.j`` (conv, GroupNorm, ReLU repeated) -> ``{cls,box}_tower.(j // 3).{conv,norm}``."""
    if m := re.match(r"^(classification|regression)_head\.conv\.(\d+)\.(.*)$", key):
        tower = "cls_tower" if m[1] == "classification" else "box_tower"
        return f"{tower}.{int(m[2]) // 3}.{('conv', 'norm')[int(m[2]) % 3]}.{m[3]}"
    table = {"classification_head.cls_logits.": "cls_pred.", "regression_head.bbox_reg.": "box_pred.",
             "regression_head.bbox_ctrness.": "ctr_pred."}
    old = next(o for o in table if key.startswith(o))
    return table[old] + key[len(old):]


# --- RPN and RoI heads -------------------------------------------------------------------------
def test_parameter_counts_equal_torchvision():
    head = build_mask_rcnn_head(P2_P6)
    assert n_params(head.rpn) == n_params(TorchvisionRPNHead(256, 3)) == 593_935
    assert n_params(head.box_head.fc1) + n_params(head.box_head.fc2) == n_params(TwoMLPHead(256 * 49, 1024)) == 13_895_680
    box_predictor = n_params(head.box_head.cls_pred) + n_params(head.box_head.box_pred)
    assert box_predictor == n_params(FastRCNNPredictor(1024, 91)) == 466_375
    assert n_params(head.mask_head.convs) == n_params(MaskRCNNHeads(256, [256] * 4, 1)) == 2_360_320
    mask_predictor = n_params(head.mask_head.deconv) + n_params(head.mask_head.logits)
    assert mask_predictor == n_params(MaskRCNNPredictor(256, 256, 91)) == 285_787


def test_rpn_equals_torchvision():
    ref = randomize(TorchvisionRPNHead(256, 3)).eval()
    head = build_faster_rcnn_head(P2_P6, proposals=4).eval()
    rpn_state = {rpn_key(k): v for k, v in ref.state_dict().items()}
    head.load_state_dict({**head.state_dict(), **rpn_state}, strict=True)
    levels = pyramid(2, 256)
    with torch.no_grad():
        logits, deltas = ref(levels)
        out = head(levels)
    for a, b in zip(logits, out["objectness"], strict=True):
        torch.testing.assert_close(b, a)
    for a, b in zip(deltas, out["anchor_deltas"], strict=True):
        torch.testing.assert_close(b, a)


def test_synthetic_rois_land_on_their_levels():
    rois, counts = synthetic_rois(torch.zeros(3, 4, 32, 32), (128, 128), STRIDES, 10, **RULE)
    assert counts == [9, 9, 6, 6] and rois.shape == (30, 5)
    k = roi_level(rois[:, 1:], k_min=2, k_max=5, **RULE)
    assert k.tolist() == sum(([lvl] * n for lvl, n in zip(range(2, 6), counts)), [])


def test_roi_align_equals_torchvision_on_random_boxes():
    levels = pyramid(2, 8, 128, count=4)
    g = torch.Generator().manual_seed(2)
    xy, wh = torch.rand(40, 2, generator=g) * 100, torch.rand(40, 2, generator=g) * 600 + 4
    rois = torch.cat([torch.arange(2).repeat_interleave(20)[:, None].float(), xy, xy + wh], dim=1)
    pooler = MultiScaleRoIAlign(strides=STRIDES, output_size=7, sampling_ratio=2, aligned=False, **RULE)
    torch.testing.assert_close(pooler(levels, rois), torchvision_pool(levels, rois, 7, 128))
    one = [x[:1] for x in levels]  # one image: torchvision orders RoIs by image, synthetic ones come by level
    synthetic, counts = synthetic_rois(one[0], (128, 128), STRIDES, 23, **RULE)
    torch.testing.assert_close(pooler(one, synthetic, counts), torchvision_pool(one, synthetic, 7, 128))


def test_box_and_mask_heads_equal_torchvision():
    box_head, box_predictor = randomize(TwoMLPHead(256 * 49, 1024)), randomize(FastRCNNPredictor(1024, 91), 1)
    mask_head, mask_predictor = randomize(MaskRCNNHeads(256, [256] * 4, 1), 2), randomize(MaskRCNNPredictor(256, 256, 91), 3)
    ours = build_mask_rcnn_head(P2_P6, proposals=12, detections=6).eval()
    state = {**prefixed("box_head.", box_head), **prefixed("box_predictor.", box_predictor),
             **prefixed("mask_head.", mask_head), **prefixed("mask_predictor.", mask_predictor)}
    rpn_state = {k: v for k, v in ours.state_dict().items() if k.startswith("rpn.")}
    ours.load_state_dict({**rpn_state, **{roi_key(k): v for k, v in state.items()}}, strict=True)
    levels = pyramid(1, 256)
    boxes, _ = synthetic_rois(levels[0], (64, 64), STRIDES, 12, **RULE)
    masks, _ = synthetic_rois(levels[0], (64, 64), STRIDES, 6, **RULE)
    with torch.no_grad():
        scores, deltas = box_predictor(box_head(torchvision_pool(levels[:4], boxes, 7, 64)))
        expected_masks = mask_predictor(mask_head(torchvision_pool(levels[:4], masks, 14, 64)))
        out = ours(levels)
    torch.testing.assert_close(out["roi_cls"], scores, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["roi_box"], deltas, atol=1e-5, rtol=1e-5)
    assert out["roi_mask"].shape == (6, 91, 28, 28)
    torch.testing.assert_close(out["roi_mask"], expected_masks, atol=1e-4, rtol=1e-4)


def test_roi_macs_per_roi_equal_torchvision_and_scale_with_the_count():
    with torch.device("meta"):
        head = build_mask_rcnn_head(P2_P6, proposals=1000, detections=100)
        box = (TwoMLPHead(256 * 49, 1024), FastRCNNPredictor(1024, 91))
        mask = (MaskRCNNHeads(256, [256] * 4, 1), MaskRCNNPredictor(256, 256, 91))
    pooled7, pooled14 = torch.empty(1, 256, 7, 7, device="meta"), torch.empty(1, 256, 14, 14, device="meta")
    assert macs(head.box_head.predict, pooled7) == BOX_MACS_PER_ROI == macs(lambda x: box[1](box[0](x)), pooled7)
    assert macs(head.mask_head.predict, pooled14) == MASK_MACS_PER_ROI == macs(lambda x: mask[1](mask[0](x)), pooled14)
    levels = [torch.empty(2, 256, 800 >> i, 1344 >> i, device="meta") for i in range(2, 6)]
    assert macs(head.box_head, levels) == 2000 * BOX_MACS_PER_ROI  # 1000 per image, batch 2; RoIAlign has no MACs
    assert macs(head.mask_head, levels) == 200 * MASK_MACS_PER_ROI


def test_rpn_needs_one_width_and_roi_features_must_exist():
    with pytest.raises(HeadMismatch, match="P2 128, P3 256"):
        build_faster_rcnn_head([LevelSpec("P2", 128, 4), LevelSpec("P3", 256, 8)])
    with pytest.raises(LevelNotFound, match="head.roi_features"):
        build_faster_rcnn_head(P2_P6[1:], roi_features=["P2", "P3"])
    assert build_faster_rcnn_head(P2_P6[1:]).roi_inputs == [0, 1, 2]  # default: up to stride 32


# --- FCOS ----------------------------------------------------------------------------------------
def test_fcos_head_equals_torchvision():
    ref = randomize(TorchvisionFCOSHead(256, 1, 91)).eval()
    ours = build_fcos_head(P2_P6[1:]).eval()
    assert n_params(ours) == n_params(ref) == 4_946_016
    copy_into(ours, ref.state_dict(), fcos_key)
    levels = pyramid(2, 256, 96)
    with torch.no_grad():
        out, flat = ours(levels), ref(levels)

    def flatten(maps: list[torch.Tensor]) -> torch.Tensor:  # (N, K, H, W) per level -> (N, ΣHW, K), one anchor
        return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, m.shape[1]) for m in maps], dim=1)

    torch.testing.assert_close(flatten(out["cls"]), flat["cls_logits"])
    torch.testing.assert_close(flatten(out["box"]), flat["bbox_regression"])
    torch.testing.assert_close(flatten(out["ctr"]), flat["bbox_ctrness"])
    assert macs(ours, levels) == macs(ref, levels)


# --- whole models: the presets against torchvision's builders --------------------------------------
def tv_backbone(norm: type[nn.Module], **kwargs: object) -> nn.Module:
    return resnet_fpn_backbone(backbone_name="resnet50", weights=None, norm_layer=norm, **kwargs)


def preset_params(name: str, norm: str) -> dict[str, int]:
    report = inspect_model(load_config(name, ["input.height=128", "input.width=128", f"backbone.norm={norm}"]))
    return {"total": report.params.total, "head": report.params.head or 0}


@pytest.mark.parametrize(("norm", "total"), [("frozen_bn", 41_755_286), ("bn", 41_808_406)])
def test_faster_rcnn_preset_equals_torchvision(norm, total):
    with torch.device("meta"):
        if norm == "bn":  # what torchvision's builder gives without weights
            reference = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
        else:  # as documented, with the backbone's BatchNorm frozen
            reference = FasterRCNN(tv_backbone(FrozenBatchNorm2d), num_classes=91)
    assert preset_params("faster_rcnn_r50_fpn", norm)["total"] == n_params(reference) == total


@pytest.mark.parametrize(("norm", "total"), [("frozen_bn", 44_401_393), ("bn", 44_454_513)])
def test_mask_rcnn_preset_equals_torchvision(norm, total):
    with torch.device("meta"):
        if norm == "bn":
            reference = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None)
        else:
            reference = MaskRCNN(tv_backbone(FrozenBatchNorm2d), num_classes=91)
    assert preset_params("mask_rcnn_r50_fpn", norm)["total"] == n_params(reference) == total


@pytest.mark.parametrize(("norm", "total"), [("frozen_bn", 32_269_600), ("bn", 32_322_720)])
def test_fcos_preset_equals_torchvision(norm, total):
    with torch.device("meta"):
        if norm == "bn":
            reference = fcos_resnet50_fpn(weights=None, weights_backbone=None)
        else:  # fcos_resnet50_fpn's backbone: C3-C5, P6 and P7 from P5
            backbone = tv_backbone(FrozenBatchNorm2d, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
            reference = FCOS(backbone, num_classes=91)
    counts = preset_params("fcos_r50_fpn", norm)
    assert counts["total"] == n_params(reference) == total and counts["head"] == 4_946_016


# --- the report: RoI costs apart from the per-level costs ----------------------------------------
def test_inspect_json_reports_roi_costs_apart(cli):
    result = cli("inspect", "faster_rcnn_r50_fpn", "--input", "256x320", "--batch", "2", "--json")
    assert result.exit_code == 0, result.stderr
    doc = parse_json(result.stdout)
    (box,) = doc["roi_costs"]
    assert box["stage"] == "box head" and box["module"] == "head.box_head" and box["set_by"] == "head.proposals"
    assert box["params"] == 13_895_680 + 466_375 and box["per_roi"]["macs"] == BOX_MACS_PER_ROI
    assert box["rois_per_image"] == 1000 and box["rois"] == 2000 and box["macs"] == 2000 * BOX_MACS_PER_ROI
    assert box["in_head_total"] is True
    per_level_head = sum(row["macs"]["head"] for row in doc["level_costs"])
    assert per_level_head + box["macs"] == doc["macs"]["head"]  # the RPN per level, the box head apart
    assert doc["params"]["head"] == 593_935 + box["params"]
    assert {o["name"] for o in doc["head_outputs"]} >= {"objectness P6", "roi_cls", "roi_box"}
    fewer = parse_json(cli("inspect", "faster_rcnn_r50_fpn", "--input", "256x320", "--set", "head.proposals=300",
                           "--json").stdout)
    assert fewer["roi_costs"][0]["macs"] == 300 * BOX_MACS_PER_ROI


def test_inspect_table_shows_the_per_roi_heads(cli):
    result = cli("inspect", "mask_rcnn_r50_fpn", "--input", "256x320")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "Per-RoI heads" in text and "head.proposals = 1,000 per image" in text and "head.detections = 100" in text
    assert "14.36 M" in text and "532.07 M" in text  # MACs per RoI of the box and the mask head
    assert "Left out: the per-RoI heads" in text


def test_compare_gives_the_per_roi_heads_a_row_of_their_own(cli):
    result = cli("compare", "faster_rcnn_r50_fpn", "fcos_r50_fpn", "--input", "256x320", "--json")
    assert result.exit_code == 0, result.stderr
    two_stage, one_stage = parse_json(result.stdout)["variants"]
    assert two_stage["level_macs"]["-1"] == 1000 * BOX_MACS_PER_ROI and "-1" not in one_stage["level_macs"]
    assert sum(two_stage["level_macs"].values()) == two_stage["macs"]["total"]  # the rows add up to the total
    table = cli("compare", "faster_rcnn_r50_fpn", "fcos_r50_fpn", "--input", "256x320").stdout
    assert "per-RoI heads" in table and "14.36 G" in table
