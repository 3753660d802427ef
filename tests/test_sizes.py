"""Receptive fields and which objects each level serves: the fields followed on meta equal the
gradient support of a real CPU forward, and each head's size rule is the one torchvision's own
code applies (anchors, FPN's level mapper, FCOS's ranges)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.fcos import FCOS
from torchvision.models.detection.image_list import ImageList
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.ops import box_iou
from torchvision.ops.poolers import LevelMapper

import fpnscope as fs
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.receptive import Field
from tests.conftest import parse_json


def tracked(module: nn.Module, size: int) -> list[int | None]:
    """Receptive fields fpnscope follows on meta, one per output."""
    twin = copy.deepcopy(module).to("meta")
    x = torch.empty(1, 3, size, size, device="meta")
    with CostCounter(memory=False) as counter, torch.no_grad():
        counter.fields.seed(x, Field.pixel())
        outs = twin(x)
    return [counter.fields.of(o).pixels for o in (outs if isinstance(outs, list) else [outs])]


def measured(module: nn.Module, size: int, index: int) -> int:
    """The rows of the image a centre element of output ``index`` depends on, by its gradient on
    the CPU: the receptive field, for a network whose every tap is non-zero (no ReLU, no max)."""
    x = torch.randn(1, 3, size, size, requires_grad=True)
    outs = module(x)
    out = (outs if isinstance(outs, list) else [outs])[index]
    out[0, :, out.shape[-2] // 2, out.shape[-1] // 2].sum().backward()
    rows = (x.grad[0].abs().sum((0, 2)) > 0).nonzero().flatten()
    return int(rows[-1] - rows[0] + 1)


class Chain(nn.Module):
    """Every kind of window: a strided conv, a pool, a dilated conv, a transposed conv, a bilinear resize."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 7, 2, 3)
        self.pool = nn.AvgPool2d(3, 2, 1)
        self.dilated = nn.Conv2d(4, 4, 3, 1, 2, dilation=2)
        self.down = nn.Conv2d(4, 4, 3, 2, 1)
        self.up = nn.ConvTranspose2d(4, 4, 2, 2)
        self.resize = nn.Upsample(scale_factor=2, mode="bilinear")
        self.out = nn.Conv2d(4, 4, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.down(self.dilated(self.pool(self.stem(x))))
        return [x, self.out(self.resize(self.up(x)))]


def test_the_field_of_each_kind_of_window_equals_its_gradient_support():
    chain = Chain().eval()
    assert tracked(chain, 256) == [measured(chain, 256, 0), measured(chain, 256, 1)] == [35, 43]


def test_resnet18_levels_equal_their_gradient_support():
    net = torchvision.models.resnet18()
    for module in list(net.modules()):  # linear, so the gradient reaches every pixel a tap reaches
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):
                setattr(module, name, nn.AvgPool2d(3, 2, 1))
    features = create_feature_extractor(net.eval(), {f"layer{i}": f"c{i + 1}" for i in range(1, 5)})

    class Levels(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = features

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            return list(self.body(x).values())

    levels = Levels()
    assert tracked(levels, 640) == [measured(levels, 640, i) for i in range(4)] == [43, 99, 211, 435]


def test_resnet50_fpn_fields_follow_its_conv_chain():
    report = fs.inspect("resnet50_fpn", input=512)
    # torchvision's ResNet-50 strides in the 3x3 conv: 7, then the max-pool, 3x3s of each stage
    assert [lvl.receptive_field for lvl in report.backbone_levels] == [35, 91, 267, 427]
    # every P-level reads C5 through the top-down path, then its own 3x3 output conv; P6 max-pools P5
    assert [lvl.receptive_field for lvl in report.levels] == [435, 443, 459, 491, 491]


@pytest.mark.parametrize(("preset", "whole"), [("swin_t_fpn", True), ("upernet_r50", False), ("synthetic_fpn", False)])
def test_attention_is_global_and_a_weightless_backbone_has_no_field(preset, whole):
    report = fs.inspect(preset, input=224)
    assert all(lvl.receptive_global == whole for lvl in report.backbone_levels)
    if preset == "synthetic_fpn":  # random maps depend on no pixel
        assert all(lvl.receptive_field is None for lvl in report.backbone_levels)
    if preset == "upernet_r50":  # pyramid pooling spreads a 1x1 map over the image: global; C5 itself is not
        assert report.backbone_levels[-1].receptive_field == 427
        assert [h.receptive_global for h in report.head_outputs] == [True]


# --- which objects each level serves ---------------------------------------------------------------
def test_retinanet_anchors_are_torchvisions_and_the_iou_bound_holds():
    sizes = fs.inspect("retinanet_r50_fpn", input=512).object_sizes
    (rule,) = sizes.assignments
    generator = torchvision.models.detection.retinanet._default_anchorgen()
    for lvl, theirs in zip(rule.levels, generator.sizes):
        ours = [4 * lvl.stride * 2 ** (i / 3) for i in range(3)]
        assert [int(s) for s in ours] == list(theirs)  # torchvision truncates 40.3 to 40
        side = min(ours) * math.sqrt(0.5)  # the smallest box the smallest anchor takes, centred on it
        assert lvl.low == pytest.approx(side)
        anchor, box = torch.tensor([[0.0, 0.0, min(ours), min(ours)]]), torch.tensor([[0.0, 0.0, side, side]])
        box += (min(ours) - side) / 2
        assert box_iou(anchor, box).item() == pytest.approx(0.5)


def test_the_roi_level_rule_is_torchvisions_level_mapper():
    sizes = fs.inspect("faster_rcnn_r50_fpn", input=512).object_sizes
    roi = next(a for a in sizes.assignments if a.rule == "roi-level")
    mapper = LevelMapper(2, 5)
    for side in (16, 111, 112, 223, 224, 447, 448, 900):
        level = mapper([torch.tensor([[0.0, 0.0, side, side]])]).item() + 2
        assert roi.serving(side) == [f"P{level}"], side


def test_fcos_ranges_are_those_torchvision_assigns_by():
    sizes = fs.inspect("fcos_r50_fpn", input=512).object_sizes
    (rule,) = sizes.assignments
    strides = [lvl.stride for lvl in rule.levels]
    maps = [torch.empty(1, 1, 512 // s, 512 // s) for s in strides]
    anchors = AnchorGenerator(tuple((s,) for s in strides), ((1.0,),) * 5)(ImageList(torch.empty(1, 3, 512, 512),
                                                                                       [(512, 512)]), maps)
    per_level = [m.numel() for m in maps]
    captured: list[torch.Tensor] = []

    class Capture(nn.Module):
        def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
            captured[:] = matched_idxs
            return {}

    fcos = FCOS.__new__(FCOS)  # torchvision's assignment code, on its own anchors
    nn.Module.__init__(fcos)
    fcos.center_sampling_radius, fcos.head = 1.5, Capture()
    centres = (anchors[0][:, :2] + anchors[0][:, 2:]) / 2
    at = (centres == 256.0).all(1)  # the location of every level at the image's centre
    level_of = torch.repeat_interleave(torch.arange(5), torch.tensor(per_level))
    for side in (40, 100, 200, 400, 700):
        box = torch.tensor([[256.0 - side / 2, 256.0 - side / 2, 256.0 + side / 2, 256.0 + side / 2]])
        FCOS.compute_loss(fcos, [{"boxes": box, "labels": torch.tensor([1])}], {}, anchors, per_level)
        matched = level_of[at & (captured[0] >= 0)].tolist()
        assert [rule.levels[i].level for i in matched] == rule.serving(side), side


def test_a_dfl_level_cannot_express_more_than_its_bins():
    from fpnscope.models.heads.yolo import DFL

    dfl = DFL(16)
    last_bin = torch.full((1, 4 * 16, 1, 1), -1e4)
    last_bin[:, 15::16] = 1e4  # every side's distribution on its last bin
    assert dfl(last_bin).max().item() == pytest.approx(15.0)  # x stride: the level's reach
    sizes = fs.inspect("yolov8n", input=640).object_sizes
    assert [lvl.high for lvl in sizes.assignments[0].levels] == [2 * 15 * 8, 2 * 15 * 16, 2 * 15 * 32]


def test_sizes_no_level_receives_are_a_warning(cli):
    report = fs.inspect("yolov8n", input=640, set={"head.object_sizes": [16, 1200]})
    (gap,) = [f for f in report.diagnostics if f.code == "size-coverage"]
    assert gap.facts["gaps"] == [[960.0, 1200.0]] and "reg_max" in gap.hint
    result = cli("inspect", "retinanet_r50_fpn", "--input", "512", "--set", "head.object_sizes=[8, 512]", "--json")
    found = [f for f in parse_json(result.stdout)["diagnostics"] if f["code"] == "size-coverage"]
    assert found[0]["facts"]["gaps"] == [[8.0, 22.6]] and result.exit_code == 0  # a warning


def test_a_level_that_sees_less_than_its_objects_is_a_warning():
    shallow = {"backbone": {"kind": "torchvision", "name": "resnet18", "returned_layers": [2, 3, 4]},
               "neck": {"kind": "fpn", "out_channels": 64, "extra_levels": {"count": 2, "mode": "maxpool"}},
               "head": {"kind": "fcos", "num_classes": 4, "depth": 1, "norm": "gn", "gn_groups": 8},
               "input": {"height": 1024, "width": 1024}}
    report = fs.inspect(shallow)
    warned = {f.level: f for f in report.diagnostics if f.code == "receptive-field"}
    p7 = next(lvl for lvl in report.object_sizes.assignments[0].levels if lvl.level == "P7")
    assert p7.receptive_field < p7.low == 1024 and "P7" in warned  # P6, P7 max-pooled with kernel 1: no wider than P5
    assert warned["P7"].facts["receptive_field"] == p7.receptive_field


def test_the_tables_and_the_json(cli):
    result = cli("inspect", "faster_rcnn_r50_fpn", "--input", "512")
    assert result.exit_code == 0
    for text in ("Objects per level: RPN anchors", "Objects per level: RoI heads", "Object size → level",
                 "Receptive field", "435 px"):
        assert text in result.stdout, text
    data = parse_json(cli("inspect", "faster_rcnn_r50_fpn", "--input", "512", "--json").stdout)
    assert [lvl["receptive_field"] for lvl in data["backbone_levels"]] == [35, 91, 267, 427]
    labels = [a["label"] for a in data["object_sizes"]["assignments"]]
    assert labels == ["RPN anchors", "RoI heads"]
    assert data["object_sizes"]["assignments"][1]["levels"][-1]["high"] is None  # P5 takes every larger box
    assert fs.inspect("upernet_r50", input=128).object_sizes is None  # segmentation: no size rule


def test_a_torchvision_detector_given_whole_is_read_from_its_own_generator_and_pooler():
    model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    report = fs.inspect(model, stages={"backbone": "backbone.body", "neck": "backbone.fpn", "head": "rpn.head"},
                        input=(512, 512))
    rpn, roi = report.object_sizes.assignments
    assert [lvl.level for lvl in rpn.levels] == ["P2", "P3", "P4", "P5", "P6"]
    assert [round(lvl.low, 1) for lvl in rpn.levels] == [round(s * math.sqrt(0.7), 1) for s in (32, 64, 128, 256, 512)]
    assert [lvl.level for lvl in roi.levels] == ["P2", "P3", "P4", "P5"]  # its pooler's featmap_names, not "pool"
    # its RPN head returns (logits per level, deltas per level): each level's field is its 3×3 conv's
    # over the level's own (P2: 435 + 2 × 4 px; P6: 491 + 2 × 64 px)
    assert [lvl.receptive_field for lvl in report.levels] == [435, 443, 459, 491, 491]
    assert [lvl.receptive_field for lvl in rpn.levels] == [443, 459, 491, 555, 619]
    fcos = torchvision.models.detection.fcos_resnet50_fpn(weights=None, weights_backbone=None)
    whole = fs.inspect(fcos, stages={"backbone": "backbone.body", "neck": "backbone.fpn", "head": "head"},
                       input=(512, 512))
    ranges = whole.object_sizes.assignments[0]
    assert [lvl.low for lvl in ranges.levels] == [0.0, 128.0, 256.0, 512.0, 1024.0]
    # its outputs join every level in one tensor: the field of its predictions per level is not known,
    # and the level's own (P7: 683 px, without the head's towers) must not make a warning
    assert all(lvl.receptive_field is None for lvl in ranges.levels)
    assert not [f for f in whole.diagnostics if f.code == "receptive-field"]
    assert any("join the levels" in note for note in whole.object_sizes.notes)
