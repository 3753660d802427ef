"""Counting and measuring: closed-form MACs, element-wise ops, provenance, meta vs real tensors."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

from fpnscope.analysis.inspect import inspect_model
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.models.assemble import build_model
from tests.conftest import SYNTHETIC
from tests.helpers import load_config


def count(module: nn.Module, *inputs: torch.Tensor, prefix: str = "m") -> CostCounter:
    with CostCounter(module, prefix) as counter, torch.no_grad():
        module(*inputs)
    return counter


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_conv_macs_closed_form(device):
    conv = nn.Conv2d(8, 12, 3, stride=2, padding=1, groups=4, device=device)
    counter = count(conv, torch.zeros(2, 8, 15, 21, device=device))
    h, w = 8, 11
    assert counter.total("m").macs == 2 * h * w * 12 * (8 // 4) * 9


def test_linear_matmul_and_transposed_conv_macs():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 24)
            self.up = nn.ConvTranspose2d(4, 6, 2, stride=2)

        def forward(self, x, a, b, img):
            return self.fc(x), a @ b, self.up(img)

    with torch.device("meta"):
        net = Net()
    counter = count(
        net,
        torch.zeros(5, 16, device="meta"),
        torch.zeros(3, 7, 9, device="meta"),
        torch.zeros(3, 9, 2, device="meta"),
        torch.zeros(1, 4, 5, 5, device="meta"),
    )
    assert counter.total("m.fc").macs == 5 * 16 * 24
    assert counter.own["m"].macs == 3 * 7 * 9 * 2  # the matmul runs in Net.forward itself
    assert counter.total("m.up").macs == 5 * 5 * 4 * 6 * 2 * 2  # each input pixel scatters a 2x2 kernel


def test_elementwise_ops_are_counted_apart():
    class Fuse(nn.Module):
        def forward(self, a, b):
            up = F.interpolate(b, size=a.shape[-2:], mode="nearest")
            return F.max_pool2d(torch.relu(a + up), kernel_size=3, stride=2, padding=1)

    a, b = torch.zeros(1, 4, 10, 10, device="meta"), torch.zeros(1, 4, 5, 5, device="meta")
    counter = count(Fuse(), a, b)
    n = 4 * 10 * 10
    assert counter.total("m").macs == 0
    assert counter.total("m").elementwise == n + n + n + 9 * (4 * 5 * 5)  # resize, add, relu, pool


def test_norms_count_per_element_and_bias_free_conv():
    with torch.device("meta"):
        block = nn.Sequential(nn.Conv2d(3, 8, 1, bias=False), nn.BatchNorm2d(8), nn.GroupNorm(2, 8)).eval()
    counter = count(block, torch.zeros(1, 3, 4, 4, device="meta"))
    assert counter.total("m.0").macs == 16 * 8 * 3
    assert counter.total("m.1").elementwise == 2 * 8 * 16
    assert counter.total("m.2").elementwise == 4 * 8 * 16


def test_op_without_formula_is_reported_not_zeroed():
    class Sorts(nn.Module):
        def forward(self, x):
            return torch.sort(x, dim=-1).values

    counter = count(Sorts(), torch.zeros(2, 5, device="meta"))
    assert "aten.sort" in counter.uncounted
    assert counter.uncounted["aten.sort"].calls == 1
    assert counter.uncounted["aten.sort"].modules == {"m"}


def test_provenance_follows_every_path():
    a, b, c = (torch.zeros(1, 1, 2, 2, device="meta") for _ in range(3))
    with CostCounter() as counter:
        for t, name in ((a, "C3"), (b, "C4"), (c, "C5")):
            counter.tag(t, name)
        ab = a + b
        only_c = F.max_pool2d(c, 1, 2)
        ab.add_(only_c.mean())
    assert counter.tags(ab) == {"C3", "C4", "C5"}  # in-place add brought C5 in
    assert counter.tags(only_c) == {"C5"}


def test_resnet50_fpn_equals_torchvision_resnet_fpn_backbone():
    ref = resnet_fpn_backbone(
        backbone_name="resnet50", weights=None, trainable_layers=5, norm_layer=nn.BatchNorm2d
    ).eval()
    model, _, specs = build_model(load_config("resnet50_fpn").config)
    model.eval()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters()) == 26_852_416
    state = {}
    for key, value in ref.state_dict().items():
        head, rest = key.split(".", 1)
        if head == "body":
            state[f"backbone.{rest}"] = value
        else:
            group, index, sub, tail = rest.split(".", 3)
            group = {"inner_blocks": "lateral", "layer_blocks": "output"}[group]
            state[f"neck.{group}.{index}.{'conv' if sub == '0' else 'norm'}.{tail}"] = value
    model.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, 96, 136)
    with torch.no_grad():
        expected = list(ref(x).values())
        got = model(x)
    assert [s.name for s in specs] == ["P2", "P3", "P4", "P5", "P6"]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def test_meta_and_cpu_agree_on_shapes_and_costs(devices_seen):
    loaded = load_config("retinanet_r50_fpn", ["input.height=96", "input.width=130"])
    meta = inspect_model(loaded, device="meta")
    assert devices_seen == {"meta"}
    devices_seen.clear()
    cpu = inspect_model(loaded, device="cpu")
    assert "cpu" in devices_seen  # the modules really ran on real tensors (after a meta estimate)
    assert meta.device.used == "meta" and cpu.device.used == "cpu" and cpu.device.note is None
    assert meta.levels == cpu.levels
    assert meta.backbone_levels == cpu.backbone_levels
    assert meta.stages == cpu.stages


def test_inspect_resnet50_fpn_at_800x1333():
    report = inspect_model(load_config("resnet50_fpn"))
    assert [(lvl.name, lvl.shape[-2:]) for lvl in report.levels] == [
        ("P2", (200, 334)), ("P3", (100, 167)), ("P4", (50, 84)), ("P5", (25, 42)), ("P6", (13, 21)),
    ]
    assert report.levels[0].sources == ("C2", "C3", "C4", "C5")
    assert report.levels[-1].sources == ("C5",)
    assert report.stages["neck"].params == 3_344_384
    assert report.stages["head"] is None
    # neck MACs by hand: laterals + 3x3 outputs over P2..P5 at 800x1333
    sizes = [(200, 334), (100, 167), (50, 84), (25, 42)]
    lateral = sum(h * w * 256 * c for (h, w), c in zip(sizes, [256, 512, 1024, 2048]))
    output = sum(h * w * 256 * 256 * 9 for h, w in sizes)
    assert report.stages["neck"].macs == lateral + output
    assert report.not_counted == []
    # the classic: C4 is 84 columns, C3 167, and 2 x 84 = 168
    (finding,) = report.diagnostics
    assert (finding.severity, finding.code, finding.level) == ("warning", "fusion-misalignment", "P3")
    assert finding.message == "upsampling C4 ×2 gives 168 columns but C3 has 167"
    assert "'The size of tensor a (167) must match the size of tensor b (168)'" in finding.hint
    assert "800x1344" in finding.hint and finding.fix == {"input": {"height": 800, "width": 1344}}


def test_channel_mismatch_reports_each_level_and_keeps_going():
    loaded = load_config("pvt_v2_b2_fpn", ["neck.in_channels=[64, 128, 256, 500]", "input.height=64", "input.width=64"])
    report = inspect_model(loaded)
    assert report.has_errors
    found = {(f.code, f.level) for f in report.diagnostics if f.severity == "error"}
    assert found == {("channel-mismatch", "C4"), ("channel-mismatch", "C5")}
    c4 = next(f for f in report.diagnostics if f.level == "C4")
    assert "says 256" in c4.message and "320" in c4.message and "neck.in_channels[2]" in c4.hint
    assert c4.fix == {"neck": {"in_channels": [64, 128, 320, 512]}}
    assert len(report.levels) == 5  # the rest of the report is still there


def test_channel_list_of_wrong_length():
    loaded = load_config("synthetic_fpn", ["neck.in_channels=[256, 512]", "input.height=64", "input.width=64"])
    (finding,) = inspect_model(loaded).diagnostics
    assert finding.level is None and "lists 2 levels but the neck reads 4" in finding.message


def test_model_that_cannot_run_on_meta_falls_back_to_cpu(tmp_path, monkeypatch, write_yaml):
    (tmp_path / "itemnet.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            class ItemNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(3, 8, 3, stride=8, padding=1)

                def forward(self, x):
                    scale = float(x.abs().max().item())  # data-dependent: impossible on meta
                    return [self.conv(x) * (1.0 + 0.0 * scale)]
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    path = write_yaml(
        "item.yaml",
        {
            "backbone": {"kind": "python", "target": "itemnet:ItemNet"},
            "neck": {"kind": "fpn", "out_channels": 8},
            "input": {"height": 32, "width": 48},
        },
    )
    report = inspect_model(load_config(str(path)))
    assert report.device.used == "cpu"
    assert "could not run on the meta device" in report.device.note
    assert "item" in report.device.note.lower()
    assert report.levels[0].shape == (1, 8, 4, 6)


def test_fvcore_crosscheck_agrees(write_yaml):
    path = write_yaml("small.yaml", SYNTHETIC)
    report = inspect_model(load_config(str(path)), flops_backend="fvcore")
    cc = report.crosscheck
    assert cc.backend == "fvcore" and cc.macs > 0
    assert cc.ours == cc.macs
    assert "aten::add" in " ".join(cc.skipped)  # fvcore skips the top-down adds; fpnscope counts them


def test_depth_breakdown_sums_to_stages():
    report = inspect_model(load_config("retinanet_r50_fpn", ["input.height=64", "input.width=64"]), depth=2)
    stages = {r.name: r for r in report.modules if r.depth == 1}
    assert stages["neck"].macs == report.stages["neck"].macs
    children = [r for r in report.modules if r.depth == 2 and r.name.startswith("neck.")]
    assert {r.name for r in children} == {"neck.lateral", "neck.output", "neck.extra"}
    assert sum(r.params for r in children) == stages["neck"].params


def test_vit_tokens_are_costed_at_their_level():
    report = inspect_model(load_config("vitdet_b_simple_fpn", ["input.height=128", "input.width=128"]))
    by_level = {lc.level: lc.macs["backbone"] for lc in report.level_costs}
    # every backbone MAC runs on the 16-stride token grid: patch embedding, qkv, attention, MLP
    assert by_level[4] == report.stages["backbone"].macs
    assert [lvl.name for lvl in report.levels] == ["P2", "P3", "P4", "P5", "P6"]


@pytest.mark.parametrize("size", [224, 256])  # 256: every stage padded to whole 7×7 windows
def test_swin_windows_are_placed_on_their_stage_level(size):
    report = inspect_model(load_config("swin_t_fpn", [f"input.height={size}", f"input.width={size}"]), depth=3)
    stage = {m.name.rsplit(".", 1)[-1]: m.macs for m in report.modules if m.name.startswith("backbone.body.")}
    by_stride = {lc.stride: lc.macs["backbone"] for lc in report.level_costs}
    # the stride-4 level also holds the patch embedding; each later stage starts with its merging
    assert by_stride[4] == stage["patch_embed"] + stage["layers_0"]
    assert [by_stride[s] for s in (8, 16, 32)] == [stage["layers_1"], stage["layers_2"], stage["layers_3"]]
    assert not by_stride.get(None)
