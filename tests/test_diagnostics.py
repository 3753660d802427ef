"""Each alignment diagnostic on a real model, and the memory estimate against known sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fpnscope.analysis.inspect import inspect_model
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.config.presets import preset_names
from fpnscope.reports.findings import merge_fixes
from tests.conftest import parse_json
from tests.helpers import load_config


def findings(target: str, *sets: str):
    return inspect_model(load_config(target, list(sets))).diagnostics


def by_code(items, code: str):
    return [f for f in items if f.code == code]


def test_aligned_input_has_no_findings():
    assert findings("resnet50_fpn", "input.height=832", "input.width=1344") == []


def test_every_misaligned_fusion_point_is_named():
    items = by_code(findings("synthetic_fpn", "input.height=100", "input.width=130"), "fusion-misalignment")
    assert [f.level for f in items] == ["P2", "P3", "P4"]
    p2 = items[0]
    assert p2.message == "upsampling C3 ×2 gives 26 rows but C2 has 25; upsampling C3 ×2 gives 34 columns but C2 has 33"
    assert p2.fix == {"input": {"height": 128, "width": 160}}


def test_bottom_up_paths_are_checked_on_floor_rounded_backbones():
    # ConvNeXt-like: every level rounds down, so a stride-2 conv from C3 (166) gives 83, C4 is 83,
    # but C2 (333) gives 167 where C3 has 166
    sets = ["backbone={kind: synthetic, channels: [96, 192, 384, 768], strides: [4, 8, 16, 32], rounding: floor}",
            "neck={kind: pafpn}"]
    items = by_code(findings("resnet50_fpn", *sets), "fusion-misalignment")
    messages = " | ".join(f.message for f in items)
    assert "a stride-2 step down from C2 gives 167 columns but C3 has 166" in messages
    assert all(f.severity == "warning" for f in items)


def test_bifpn_extra_levels_are_fusion_points():
    items = by_code(findings("efficientdet_d0", "input.height=640", "input.width=832"), "fusion-misalignment")
    # 640 / 128 = 5 rows at P7, 2 x 5 = 10 = P6's rows; 832 / 128 = 6.5 -> 7 columns, 2 x 7 = 14 vs 13
    assert [f.level for f in items] == ["P6"]
    assert items[0].fix == {"input": {"height": 640, "width": 896}}


def test_levels_rounded_differently():
    sets = ["backbone={kind: synthetic, channels: [256, 512], strides: [16, 32], rounding: floor}",
            "neck={kind: fpn, extra_levels: {count: 1}}"]
    (rounding,) = [f for f in findings("resnet50_fpn", *sets) if "rounded differently" in f.message]
    assert rounding.level == "P6"  # C4, C5 round down (floor), the max-pool rounds P6 up
    # a multiple of 32 makes C4 and C5 exact, and P6 alone is left to round (up, as it does)
    assert rounding.fix == {"input": {"height": 800, "width": 1344}}


def test_tiny_levels():
    items = by_code(findings("retinanet_r50_fpn", "input.height=100", "input.width=300"), "level-too-small")
    assert [f.level for f in items] == ["P7"]
    assert items[0].message == "P7 is 1×3: its stride 128 is larger than the 100-pixel input height"


def test_strict_makes_warnings_exit_1(cli):
    result = cli("inspect", "resnet50_fpn", "--json")
    assert result.exit_code == 0  # warnings only
    assert cli("inspect", "resnet50_fpn", "--json", "--strict").exit_code == 1


def test_real_device_run_that_would_not_fit_is_refused(cli):
    result = cli("inspect", "resnet50_fpn", "--device", "cpu", "--input", "20000", "--batch", "4")
    assert result.exit_code == 2
    assert "needs about" in result.stderr and "use --device meta" in result.stderr
    assert result.stdout == ""


def test_memory_estimate_of_a_tiny_model():
    with torch.device("meta"):
        net = nn.Sequential(nn.Conv2d(3, 8, 1), nn.ReLU()).eval()
    x = torch.empty(1, 3, 4, 4, device="meta")  # 192 bytes
    with CostCounter(net) as counter, torch.no_grad():
        counter.live.track(x)
        y = net(x)
    # the input, the conv's output (512 bytes) and the ReLU's output (512) are alive together
    assert counter.live.peak == 192 + 512 + 512
    assert counter.live.current == 192 + 512  # the conv's output is gone, y is still held
    del y


def test_memory_is_reported(cli):
    report = inspect_model(load_config("resnet50_fpn", ["input.height=256", "input.width=256"]))
    # parameters in fp32, plus BatchNorm's buffers: two fp32 statistics per channel and an int64 counter
    bn = [64] + [64, 64, 256, 256] + [64, 64, 256] * 2 + [128, 128, 512, 512] + [128, 128, 512] * 3
    bn += [256, 256, 1024, 1024] + [256, 256, 1024] * 5 + [512, 512, 2048, 2048] + [512, 512, 2048] * 2
    assert report.memory.params_bytes == 26_852_416 * 4 + sum(2 * c * 4 + 8 for c in bn)
    # one 256x256 image: at least the stem's output (64 x 128 x 128 x 4 bytes) was alive at some point
    assert report.memory.activations_peak_bytes >= 64 * 128 * 128 * 4


def test_a_neck_whose_declaration_disagrees_with_its_outputs_is_reported():
    from fpnscope.analysis.diagnose import check_neck_declared
    from fpnscope.reports.inspect import Level
    from fpnscope.spec import LevelSpec

    measured = [Level("P3", (1, 64, 8, 8), 8, 64), Level("P4", (1, 128, 4, 4), 16, 128)]
    assert check_neck_declared([LevelSpec.of("P", 64, 8), LevelSpec.of("P", 128, 16)], measured, "fpn") == []
    (finding,) = check_neck_declared([LevelSpec.of("P", 64, 8), LevelSpec.of("P", 256, 16)], measured, "fpn")
    assert (finding.severity, finding.code, finding.level) == ("error", "declared-vs-measured", "P4")
    assert finding.message == "the fpn neck declares P4 with 256 channels at stride 16 but produced 128 channels at stride 16"


@pytest.mark.parametrize("size", [(500, 700), (800, 1333)])
@pytest.mark.parametrize("name", preset_names())
def test_the_corrected_input_clears_every_input_finding(name, size):
    """One input for all the findings that fix the input, and applying it leaves none of them."""
    awkward = [f"input.height={size[0]}", f"input.width={size[1]}"]
    report = inspect_model(load_config(name, awkward))
    sized = [f.fix["input"] for f in report.diagnostics if f.fix and "input" in f.fix]
    if not sized:
        return
    assert all(fix == sized[0] for fix in sized), sized  # no two pieces of advice
    fixed = sized[0]
    again = inspect_model(load_config(name, [f"input.height={fixed['height']}", f"input.width={fixed['width']}"]))
    assert [f.message for f in again.diagnostics if f.fix and "input" in f.fix] == []


def test_the_corrected_input_is_the_smallest_that_clears_them():
    # Swin at 800x1333: C2 rounds down and the rest up; a multiple of 32 (for the fusions) already
    # makes them round alike, so 64 (832 rows) would pad more than needed.
    swin = merge_fixes(inspect_model(load_config("swin_t_fpn")).diagnostics)
    assert swin == {"input": {"height": 800, "width": 1344}}
    # 16x16: levels too small ask for 128 pixels a side, which is also a multiple of 32
    tiny = merge_fixes(inspect_model(load_config("resnet50_fpn", ["input.height=16", "input.width=16"])).diagnostics)
    assert tiny == {"input": {"height": 128, "width": 128}}


def test_a_wrong_yaml_declaration_names_its_entry_and_the_fix_clears_it(cli, monkeypatch):
    from pathlib import Path

    corpus = Path(__file__).parent / "broken"
    monkeypatch.chdir(corpus)
    first = parse_json(cli("inspect", "declared_wrong.yaml", "--allow-python", "--json").stdout)
    assert first["corrected"] == {"backbone": {"channels": [8, 16], "strides": [4, 8]}}
    fixed = cli("inspect", "declared_wrong.yaml", "--allow-python", "--json",
                "--set", "backbone.channels=[8, 16]", "--set", "backbone.strides=[4, 8]")
    assert fixed.exit_code == 0 and parse_json(fixed.stdout)["diagnostics"] == []
