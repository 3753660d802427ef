"""YOLOv8 as a whole (backbone, neck, Detect with DFL) and the YOLOX head, against the reference
implementations' own counts.

The figures are ultralytics' own count of ``DetectionModel('yolov8{n,s}.yaml')`` (ultralytics
8.4.190, eval mode, random weights), parameters with ``sum(p.numel())`` and MACs as FLOPs / 2 of
``torch.utils.flop_counter.FlopCounterMode`` at 1x3x640x640; backbone = yaml layers 0-9, neck =
10-21, head = the Detect layer 22. ultralytics is not a dependency, so the figures are written here.
The YOLOX figures come from the YOLOX repository's ``YOLOXHead`` (YOLOX-s: width 0.50) counted the
same way at 640x640.
"""

from __future__ import annotations

import pytest
import torch

from fpnscope.analysis.inspect import inspect_model
from fpnscope.config.backbones import YOLOv8Backbone
from fpnscope.models.assemble import build_model
from fpnscope.models.backbones.yolov8 import build_yolov8
from fpnscope.models.heads.yolo import DFL, build_yolox_head
from fpnscope.spec import LevelSpec
from tests.helpers import load_config
from tests.reference import macs, n_params

ULTRALYTICS = {
    "yolov8n": {"params": (3_157_200, 1_272_656, 986_880, 897_664),
                "macs": (4_371_993_600, 1_577_779_200, 983_040_000, 1_811_174_400)},
    "yolov8s": {"params": (11_166_560, 5_079_712, 3_939_840, 2_147_008),
                "macs": (14_301_312_000, 6_222_643_200, 3_932_160_000, 4_146_508_800)},
}
YOLOX_S_HEAD = {"params": 1_920_895, "macs": 5_229_414_400}


@pytest.mark.parametrize("name", ULTRALYTICS)
def test_params_and_macs_equal_ultralytics(name):
    report = inspect_model(load_config(name))  # the preset's own 640x640, on meta
    want = ULTRALYTICS[name]
    assert (report.params.total, report.params.backbone, report.params.neck, report.params.head) == want["params"]
    assert (report.macs.total, report.macs.backbone, report.macs.neck, report.macs.head) == want["macs"]
    assert [lvl.shape for lvl in report.levels] == [(1, c, 640 // s, 640 // s) for c, s in zip(
        (64, 128, 256) if name == "yolov8n" else (128, 256, 512), (8, 16, 32))]
    assert {h.name.split()[0] for h in report.head_outputs} == {"box", "cls", "dist"}


def test_the_flop_counter_agrees_on_a_real_forward():
    model, _, _ = build_model(load_config("yolov8n", ["input.height=128", "input.width=128"]).config)
    x = torch.randn(1, 3, 640, 640)
    with torch.no_grad():
        assert macs(model.eval(), x) == ULTRALYTICS["yolov8n"]["macs"][0]


def test_dfl_weights_are_frozen_parameters():
    dfl = DFL(16)
    assert n_params(dfl) == 16 and not dfl.weight.requires_grad
    assert dfl.weight.flatten().tolist() == list(range(16))
    model, _, _ = build_model(load_config("yolov8n").config)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 3_157_184  # ultralytics' gradients


def test_dfl_is_the_expectation_over_the_bins():
    logits = torch.randn(2, 64, 3, 5)
    expected = (logits.view(2, 4, 16, 3, 5).softmax(2) * torch.arange(16.0).view(1, 1, 16, 1, 1)).sum(2)
    torch.testing.assert_close(DFL(16)(logits), expected)


def test_backbone_scales_and_batchnorm():
    module, specs = build_yolov8(YOLOv8Backbone(width_multiple=0.5))
    assert [(s.name, s.channels, s.stride) for s in specs] == [("C2", 64, 4), ("C3", 128, 8), ("C4", 256, 16),
                                                               ("C5", 512, 32)]
    assert [len(stage[1].m) for stage in module.stages] == [1, 2, 2, 1]  # 3, 6, 6, 3 at depth 0.33
    model, _, _ = build_model(load_config("yolov8n").config)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.eps == 1e-3 and m.momentum == 0.03 for m in norms)  # ultralytics' settings
    # yolov8l-style widths are capped by max_channels before the multiple
    assert build_yolov8(YOLOv8Backbone(width_multiple=1.0, max_channels=512))[1][-1].channels == 512


def test_yolox_head_equals_the_yolox_count():
    specs = [LevelSpec.of("P", c, s) for c, s in ((128, 8), (256, 16), (512, 32))]
    with torch.device("meta"):
        head = build_yolox_head(specs, channels=128)
    levels = [torch.empty(1, s.channels, 640 // s.stride, 640 // s.stride, device="meta") for s in specs]
    assert n_params(head) == YOLOX_S_HEAD["params"] and macs(head, levels) == YOLOX_S_HEAD["macs"]
    out = head(levels)
    assert [t.shape[1] for t in (out["cls"][0], out["box"][0], out["obj"][0])] == [80, 4, 1]
