"""Heads: equivalence with torchvision's RetinaNet head, closed-form counts, shapes, and the
head-mismatch finding when a head cannot sit on the neck's levels."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn
from torchvision.models.detection.retinanet import RetinaNetHead as TorchvisionRetinaHead

from fpnscope.analysis.inspect import inspect_model
from fpnscope.errors import HeadMismatch
from fpnscope.models.heads.cls import build_cls_head
from fpnscope.models.heads.retina import build_retina_head
from fpnscope.models.heads.seg import build_seg_head
from fpnscope.spec import LevelSpec
from tests.conftest import parse_json
from tests.helpers import load_config

P3_P5 = [LevelSpec("P3", 32, 8), LevelSpec("P4", 32, 16), LevelSpec("P5", 32, 32)]


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def maps(specs: list[LevelSpec], height: int = 64, width: int = 96) -> list[torch.Tensor]:
    return [torch.randn(2, s.channels, -(-height // s.stride), -(-width // s.stride)) for s in specs]


def copy_from_torchvision(ours: nn.Module, ref: TorchvisionRetinaHead) -> None:
    state = {}
    for key, value in ref.state_dict().items():
        head, rest = key.split(".", 1)
        tower = "cls" if head == "classification_head" else "box"
        parts = rest.split(".")
        if parts[0] == "conv":
            index, sub, tail = parts[1], parts[2], parts[3]
            if sub == "0":
                state[f"{tower}_tower.convs.{index}.{tail}"] = value
            else:
                state[f"{tower}_tower.norms.0.{index}.{tail}"] = value
        else:
            state[f"{tower}_pred.{parts[1]}"] = value
    ours.load_state_dict(state, strict=True)


def flatten(per_level: list[torch.Tensor], size: int) -> torch.Tensor:
    """torchvision's layout: (N, A*K, H, W) per level -> (N, sum H*W*A, K)."""
    out = []
    for t in per_level:
        n, _, h, w = t.shape
        out.append(t.view(n, -1, size, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, size))
    return torch.cat(out, dim=1)


@pytest.mark.parametrize(("norm", "layer"), [("none", None), ("gn", partial(nn.GroupNorm, 8))])
def test_retina_head_equals_torchvision(norm, layer):
    ref = TorchvisionRetinaHead(32, num_anchors=9, num_classes=7, norm_layer=layer).eval()
    ours = build_retina_head(P3_P5, num_classes=7, num_anchors=9, depth=4, norm=norm, gn_groups=8).eval()
    assert params(ours) == params(ref)
    copy_from_torchvision(ours, ref)
    xs = maps(P3_P5)
    with torch.no_grad():
        expected = ref(xs)
        got = ours(xs)
    torch.testing.assert_close(flatten(got["cls"], 7), expected["cls_logits"])
    torch.testing.assert_close(flatten(got["box"], 4), expected["bbox_regression"])


def test_retina_head_at_retinanet_size_matches_torchvision_count():
    specs = [LevelSpec(f"P{i}", 256, 2**i) for i in range(3, 8)]
    ours = build_retina_head(specs, num_classes=80)
    assert params(ours) == params(TorchvisionRetinaHead(256, 9, 80)) == 6_463_220


def test_efficientdet_head_closed_form():
    # separable convs shared across levels, BatchNorm per level (rwightman's effdet: class_net
    # 69,162 and box_net 18,852 parameters for D0 with 90 classes).
    w, depth, levels = 64, 3, 5
    specs = [LevelSpec(f"P{i}", w, 2**i) for i in range(3, 3 + levels)]
    head = build_retina_head(specs, num_classes=90, num_anchors=9, depth=depth, norm="bn", norm_per_level=True, act="silu", separable=True)
    tower = depth * (9 * w + w * w) + levels * depth * 2 * w

    def predictor(out: int) -> int:
        return 9 * w + w * out + out

    assert params(head.cls_tower) + params(head.cls_pred) == tower + predictor(9 * 90) == 69_162
    assert params(head.box_tower) + params(head.box_pred) == tower + predictor(9 * 4) == 18_852
    out = head(maps(specs, 128, 128))
    assert [tuple(t.shape) for t in out["cls"]][:2] == [(2, 810, 16, 16), (2, 810, 8, 8)]


def test_retina_head_needs_equal_channels():
    with pytest.raises(HeadMismatch, match=r"P3 64, P4 128, P5 256"):
        build_retina_head([LevelSpec("P3", 64, 8), LevelSpec("P4", 128, 16), LevelSpec("P5", 256, 32)])


def test_seg_head_closed_form_and_output():
    specs = [LevelSpec("P2", 16, 4), LevelSpec("P3", 32, 8), LevelSpec("P4", 64, 16), LevelSpec("P5", 128, 32)]
    ch, k, scales = 24, 5, (1, 2, 3, 6)
    head = build_seg_head(specs, channels=ch, num_classes=k, pool_scales=scales).eval()

    def cbr(cin: int, cout: int, kernel: int) -> int:
        return cin * cout * kernel * kernel + 2 * cout

    top = specs[-1].channels
    expected = (
        len(scales) * cbr(top, ch, 1)
        + cbr(top + len(scales) * ch, ch, 3)
        + sum(cbr(s.channels, ch, 1) + cbr(ch, ch, 3) for s in specs[:-1])
        + cbr(len(specs) * ch, ch, 3)
        + ch * k + k
    )
    assert params(head) == expected
    with torch.no_grad():
        out = head(maps(specs, 96, 130))
    assert tuple(out["seg"].shape) == (2, k, 24, 33)  # the finest level's size


def test_cls_head():
    head = build_cls_head(P3_P5, num_classes=10).eval()
    assert params(head) == 32 * 10 + 10
    assert tuple(head(maps(P3_P5))["logits"].shape) == (2, 10)


def test_upernet_r50_head_matches_the_closed_form():
    report = inspect_model(load_config("upernet_r50", ["input.height=64", "input.width=64"]))
    ch, k = 512, 150
    cbr = lambda cin, cout, kernel: cin * cout * kernel * kernel + 2 * cout  # noqa: E731
    expected = (4 * cbr(2048, ch, 1) + cbr(2048 + 4 * ch, ch, 3) + sum(cbr(c, ch, 1) + cbr(ch, ch, 3) for c in (256, 512, 1024))
                + cbr(4 * ch, ch, 3) + ch * k + k)
    assert report.stages["head"].params == expected == 40_590_486
    assert [h.name for h in report.head_outputs] == ["seg"]
    assert report.head_outputs[0].shape == (1, 150, 16, 16)


def test_head_mismatch_is_a_finding_and_the_report_goes_on(cli, write_yaml):
    path = write_yaml(
        "yolo_retina.yaml",
        {"_base_": "yolov8n_pan", "head": {"kind": "retina", "num_classes": 80}, "input": {"height": 128, "width": 128}},
    )
    report = inspect_model(load_config(str(path)))
    (finding,) = report.diagnostics
    assert finding.code == "head-mismatch" and finding.severity == "error"
    assert "needs the same channels" in finding.message and "P3 64, P4 128, P5 256" in finding.message
    assert report.stages["head"] is None and len(report.levels) == 3
    result = cli("inspect", str(path), "--json")
    assert result.exit_code == 1
    assert parse_json(result.stdout)["diagnostics"][0]["code"] == "head-mismatch"


def test_head_in_features_select_levels_and_unknown_ones_fail():
    cfg = ["input.height=128", "input.width=128", "head.in_features=[P4, P5]"]
    report = inspect_model(load_config("retinanet_r50_fpn", cfg))
    assert [h.name for h in report.head_outputs] == ["cls P4", "cls P5", "box P4", "box P5"]
    missing = inspect_model(load_config("retinanet_r50_fpn", ["head.in_features=[P3, P9]"]))
    (finding,) = [f for f in missing.diagnostics if f.severity == "error"]
    assert finding.code == "head-mismatch"
    assert "head.in_features: the neck has no level 'P9'" in finding.message
    assert "P3, P4, P5, P6, P7" in finding.hint
    assert missing.stages["head"] is None


def test_head_cost_per_level():
    report = inspect_model(load_config("retinanet_r50_fpn", ["input.height=256", "input.width=256"]))
    by_level = {lc.level: lc for lc in report.level_costs}
    assert sorted(k for k in by_level if k is not None) == [1, 2, 3, 4, 5, 6, 7]  # the stem runs at stride 2
    head = {k: v.macs["head"] for k, v in by_level.items() if v.macs["head"]}
    assert sorted(head) == [3, 4, 5, 6, 7]
    # the same shared convs at a quarter of the pixels per level
    assert head[3] == 4 * head[4] == 16 * head[5]
    assert sum(head.values()) == report.stages["head"].macs
    assert sum(lc.macs["backbone"] for lc in report.level_costs) == report.stages["backbone"].macs


def test_the_module_breakdown_of_a_shared_head():
    report = inspect_model(load_config("retinanet_r50_fpn", ["input.height=256", "input.width=256"]), depth=2)
    rows = {r.name: r for r in report.modules}
    assert rows["head"].shape == "10 maps"  # class and box maps on P3-P7
    tower = rows["head.cls_tower"]
    assert tower.calls == 5 and tower.shape == "1×256×32×32"  # its first call, on P3
