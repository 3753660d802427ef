"""The user's own code: necks, heads and whole models taken in as they are, and the crash report
that says where, on what, why and what to change. The modules are in tests/usercode/."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import torch

import fpnscope as fs
from tests.conftest import parse_json

CORPUS = Path(__file__).parent / "usercode"


@pytest.fixture
def corpus(monkeypatch):
    """The corpus importable as the user's modules (found next to their YAML files), forgotten after."""
    monkeypatch.syspath_prepend(str(CORPUS))
    yield CORPUS
    for name in ("naive_fpn", "wrong_lateral", "yolo_concat", "dict_backbone", "heads", "needs_real_tensors",
                 "pooled_pan", "unpadded_pan", "weighted_bifpn", "stacked_weights"):
        sys.modules.pop(name, None)


def crash(report) -> dict:
    found = [f for f in report.diagnostics if f.code == "forward-error"]
    assert len(found) == 1, [f.message for f in report.diagnostics]
    assert found[0].severity == "error" and report.has_errors
    return found[0]


def test_the_notebook_fpn_fails_at_800x1333_and_the_report_says_where_why_and_what(corpus, cli, devices_seen):
    result = cli("inspect", str(corpus / "naive_fpn.yaml"), "--allow-python", "--json")
    assert result.exit_code == 1, result.stderr  # a finding about the model, not bad input
    assert "cpu" not in devices_seen  # a shape error on meta is the finding: nothing is re-run for real
    data = parse_json(result.stdout)
    assert data["stopped_at"] == "neck" and data["levels"] == []
    assert [lvl["name"] for lvl in data["backbone_levels"]] == ["C2", "C3", "C4", "C5"]  # measured up to the failure
    assert data["params"]["neck"] == 3_344_384 and data["macs"]["backbone"] > 0
    (finding,) = data["diagnostics"]
    facts = finding["facts"]
    assert (finding["code"], finding["level"], facts["op"], facts["module"]) == ("forward-error", "P3", "add", "neck")
    assert facts["source"]["where"] == "naive_fpn.py:21"
    assert facts["source"]["text"] == 'p = lat + F.interpolate(p, scale_factor=2, mode="nearest")'
    assert [(o["what"], o["shape"]) for o in facts["operands"]] == [
        ("neck.lateral.1 (conv 1×1 512→256) of C3", [1, 256, 100, 167]),
        ("×2 upsample of P4", [1, 256, 100, 168]),
    ]
    assert facts["dim"] == "columns" and facts["sizes"] == [167, 168]
    assert facts["explained"] == {"chain": [1333, 667, 334, 167, 84], "because": "84 × 2 = 168 ≠ 167"}
    edit, pad = finding["fixes"]
    assert edit["code"] == "F.interpolate(p, size=lat.shape[-2:], mode='nearest')" and edit["line"] == 21
    assert (pad["height"], pad["width"], pad["multiple"]) == (800, 1344, 32)
    assert data["corrected"] == {"input": {"height": 800, "width": 1344}}


def test_the_proposed_input_really_clears_it(corpus):
    fixed = fs.inspect(corpus / "naive_fpn.yaml", allow_python=True, input="800x1344")
    assert fixed.diagnostics == [] and [lvl.name for lvl in fixed.levels] == ["P2", "P3", "P4", "P5"]


def test_the_crash_report_in_the_terminal(corpus, cli):
    result = cli("inspect", str(corpus / "naive_fpn.yaml"), "--allow-python")
    out = result.stdout
    assert result.exit_code == 1
    assert "Pyramid levels  not measured: the neck's forward raised" in out
    assert "neck (until it raised)" in out
    for line in ("naive_fpn.py:21 │ p = lat + F.interpolate(p, scale_factor=2, mode=\"nearest\")",
                 "neck.lateral.1 (conv 1×1 512→256) of C3  1×256×100×167",
                 "×2 upsample of P4                        1×256×100×168",
                 "columns: 1333 → 667 → 334 → 167 → 84, and 84 × 2 = 168 ≠ 167"):
        assert line in out, line


def test_a_lateral_built_for_other_channels(corpus):
    finding = crash(fs.inspect(corpus / "wrong_lateral.yaml", allow_python=True))
    assert finding.message == ("neck.lateral.1 (wrong_lateral.py:14) expects 128 input channels; C4 has 256 "
                               "(1×256×8×8)")
    # two Conv2d calls in one line: no single call to point at; every level's channels are said
    assert finding.hint == "build neck.lateral.1 with 256 input channels (the neck gets C3 128, C4 256)"
    assert finding.facts["module_info"] == {"type": "Conv2d", "in_channels": 128, "out_channels": 64, "groups": 1}


def test_laterals_built_for_another_backbone_are_told_every_channel_at_once(tmp_path, monkeypatch):
    (tmp_path / "r50_neck.py").write_text(
        "from torch import nn\n\n\nclass R50Neck(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.lat = nn.ModuleList(nn.Conv2d(c, 64, 1) for c in [512, 1024, 2048])\n\n"
        "    def forward(self, feats):\n        return [conv(f) for conv, f in zip(self.lat, feats)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "r50_neck", raising=False)
    cfg = {"input": {"height": 128, "width": 128},
           "backbone": {"kind": "torchvision", "name": "resnet18", "returned_layers": [2, 3, 4]},
           "neck": {"kind": "python", "target": "r50_neck:R50Neck"}}
    finding = crash(fs.inspect(cfg, allow_python=True))
    assert finding.hint == ("build neck.lat.0 with 128 input channels (neck.lat's 3 layers are built at r50_neck.py:7, "
                            "`nn.Conv2d(c, 64, 1)`; the neck gets C3 128, C4 256, C5 512)")
    assert finding.facts["inputs"] == [["C3", 128], ["C4", 256], ["C5", 512]]
    sys.modules.pop("r50_neck", None)


def test_a_yolo_style_concat_at_240(corpus):
    finding = crash(fs.inspect(corpus / "yolo_concat.yaml", allow_python=True))
    assert finding.facts["op"] == "cat" and finding.facts["dim"] == "rows" and finding.facts["sizes"] == [16, 15]
    assert finding.level == "C4"  # a 16×16 map at 240 (240 / 16 = 15) is on no level: no "Ps15"
    assert [o["what"] for o in finding.facts["operands"]] == ["×2 upsample of C5", "C4"]
    assert finding.facts["explained"]["because"] == "8 × 2 = 16 ≠ 15"
    assert finding.fixes[0].code == "nn.functional.interpolate(c5, size=c4.shape[-2:])"  # the file has no F
    assert finding.fix == {"input": {"height": 256, "width": 256}}


def _applied(corpus: Path, tmp_path: Path, name: str, fix, written: str) -> Path:
    """The corpus module with the call ``written`` at the proposed line replaced by the proposed one."""
    lines = (corpus / f"{name}.py").read_text().splitlines()
    assert written in lines[fix.line - 1]
    lines[fix.line - 1] = lines[fix.line - 1].replace(written, fix.code)
    (tmp_path / f"{name}.py").write_text("\n".join(lines) + "\n")
    (tmp_path / f"{name}.yaml").write_text((corpus / f"{name}.yaml").read_text())
    sys.modules.pop(name, None)
    return tmp_path / f"{name}.yaml"


def test_a_max_pool_that_rounds_down_is_built_to_round_up(corpus, tmp_path):
    finding = crash(fs.inspect(corpus / "pooled_pan.yaml", allow_python=True))
    assert [o["what"] for o in finding.facts["operands"]] == ["add of P4", "neck.pool (max-pool k2 s2) of P3"]
    assert finding.facts["explained"]["because"] == "167 // 2 = 83 ≠ 84 (rounded down)"
    build, resize, pad = finding.fixes
    assert (build.kind, build.module, build.layers, dict(build.changes)) == (
        "build-with", "neck.pool", ("neck.pool",), {"ceil_mode": True})
    assert (Path(build.file).name, build.line, build.code) == ("pooled_pan.py", 12, "nn.MaxPool2d(2, 2, ceil_mode=True)")
    assert "`nn.MaxPool2d(2, 2, ceil_mode=True)` at pooled_pan.py:12, with which the forward runs (checked)" in finding.hint
    assert (resize.kind, pad.kind) == ("edit-code", "pad-input")
    fixed = fs.inspect(_applied(corpus, tmp_path, "pooled_pan", build, "nn.MaxPool2d(2, 2)"), allow_python=True)
    assert fixed.diagnostics == [] and [lvl.shape[-1] for lvl in fixed.levels] == [167, 84, 42]


def test_strided_convs_without_padding_are_built_with_it(corpus, tmp_path):
    finding = crash(fs.inspect(corpus / "unpadded_pan.yaml", allow_python=True))
    assert finding.facts["explained"] == {"chain": [512, 256, 128, 64],
                                          "because": "neck.down.0 gives (128 − 3) // 2 + 1 = 63 ≠ 64"}
    build = finding.fixes[0]
    # one call builds the three convs of the list: all three must change for the forward to run
    assert build.module == "neck.down" and build.layers == ("neck.down.0", "neck.down.1", "neck.down.2")
    assert (build.line, build.code) == (12, "nn.Conv2d(out_channels, out_channels, 3, 2, padding=1)")
    assert not any(f.kind == "pad-input" for f in finding.fixes)  # 512 is a multiple of 32 already
    assert finding.hint.startswith("build the 3 layers of neck.down with padding=1")
    fixed = fs.inspect(_applied(corpus, tmp_path, "unpadded_pan", build, "nn.Conv2d(out_channels, out_channels, 3, 2)"), allow_python=True)
    assert fixed.diagnostics == [] and [lvl.shape[-1] for lvl in fixed.levels] == [128, 64, 32, 16]


def test_a_weighted_fusion_is_seen_through_to_the_conv_that_made_the_map(corpus):
    finding = crash(fs.inspect(corpus / "weighted_bifpn.yaml", allow_python=True))
    assert [o["what"] for o in finding.facts["operands"]] == [
        "neck.lat.1 (conv 1×1 16→16) of C4, then mul", "neck.down (conv 3×3 s2 16→16) of P3, then mul"]
    assert finding.facts["explained"]["because"] == "neck.down gives (32 − 3) // 2 + 1 = 15 ≠ 16"
    build, resize = finding.fixes
    assert (build.line, build.code) == (13, "nn.Conv2d(width, width, 3, stride=2, padding=1)")
    # the file imports torch and nn only: the line proposed spells interpolate as it can
    assert resize.code == "nn.functional.interpolate(x, size=other.shape[-2:])" and resize.imports is None


def test_a_weight_of_too_few_dimensions_is_reshaped_to_meet_the_maps(corpus, tmp_path):
    finding = crash(fs.inspect(corpus / "stacked_weights.yaml", allow_python=True))
    assert finding.facts["op"] == "mul" and finding.facts["sizes"] == [2, 32]
    assert finding.facts["explained"]["because"] == (
        "a tensor of shape (2,) lines up with the last dimension (32) when broadcast, not with dimension 0 (2)")
    (edit,) = finding.fixes  # no padded input: the input is not what is wrong
    assert (edit.code, edit.line) == ("w.view(-1, 1, 1, 1, 1)", 19)
    code = (corpus / "stacked_weights.py").read_text().replace("(w * torch", f"({edit.code} * torch")
    (tmp_path / "stacked_weights.py").write_text(code)
    (tmp_path / "stacked_weights.yaml").write_text((corpus / "stacked_weights.yaml").read_text())
    sys.modules.pop("stacked_weights", None)
    assert fs.inspect(tmp_path / "stacked_weights.yaml", allow_python=True).diagnostics == []  # the fix, applied
    sys.modules.pop("stacked_weights", None)


@pytest.mark.parametrize("imports, spelled, needs", [
    ("import torch.nn.functional as F", "F.interpolate", None),
    ("from torch.nn import functional", "functional.interpolate", None),
    ("from torch import nn", "nn.functional.interpolate", None),
    ("import torch", "torch.nn.functional.interpolate", None),
    ("import os", "F.interpolate", "import torch.nn.functional as F"),
])
def test_proposed_code_is_spelled_as_the_users_file_can_run_it(tmp_path, imports, spelled, needs):
    from fpnscope.analysis.diagnose.spelling import missing_import
    from fpnscope.analysis.diagnose.spelling import spelled as spell

    file = tmp_path / "mine.py"
    file.write_text(f"{imports}\n\n\nclass Neck:\n    pass\n")
    assert spell(str(file), "torch.nn.functional.interpolate") == spelled
    assert missing_import(str(file), spelled) == needs


TWO_DOWNS = """
from torch import nn


class TwoDowns(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, 8, 1) for c in in_channels])
        self.down3 = nn.Conv2d(8, 8, 3, 2)
        self.down4 = nn.Conv2d(8, 8, 3, 2, PADDING)

    def forward(self, feats):
        c2, c3, c4 = [conv(f) for conv, f in zip(self.lateral, feats)]
        p3 = c3 + self.down3(c2)
        return [c2, p3, c4 + self.down4(p3)]
"""


@pytest.mark.parametrize("padding, proposed", [(0, False), (1, True)])
def test_a_layer_change_is_proposed_only_when_the_forward_then_runs(tmp_path, monkeypatch, padding, proposed):
    # down3 is fixed by padding=1, but the forward runs only if down4 is padded too
    (tmp_path / "two_downs.py").write_text(TWO_DOWNS.replace("PADDING", str(padding)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "two_downs", raising=False)
    cfg = {"input": {"height": 256, "width": 256},
           "backbone": {"kind": "synthetic", "channels": [8, 16, 32], "strides": [4, 8, 16]},
           "neck": {"kind": "python", "target": "two_downs:TwoDowns"}}
    finding = crash(fs.inspect(cfg, allow_python=True))
    assert finding.facts["module"] == "neck" and finding.facts["source"]["text"] == "p3 = c3 + self.down3(c2)"
    builds = [f for f in finding.fixes if f.kind == "build-with"]
    assert [(f.module, f.code) for f in builds] == ([("neck.down3", "nn.Conv2d(8, 8, 3, 2, padding=1)")] if proposed else [])
    sys.modules.pop("two_downs", None)


def test_a_head_that_reshapes_for_one_size(corpus, tmp_path):
    report = fs.inspect(corpus / "flatten_head.yaml", allow_python=True)
    finding = crash(report)
    assert report.stopped_at == "head" and [lvl.name for lvl in report.levels] == ["P3", "P4"]
    assert finding.facts["rule"] == "elements" and finding.facts["sizes"] == [2048, 1568]
    # 1,568 = 32 × 7 × 7: the head was written for 7×7 maps and is told to pool to them
    assert finding.hint.startswith("it was written for a 32×7×7 map (1,568 elements an image) and gets 32×8×8: "
                                   "pool to that size first, `nn.functional.adaptive_avg_pool2d(x, (7, 7))`")
    line = finding.facts["source"]["line"]
    code = (corpus / "heads.py").read_text().splitlines()
    code.insert(line - 1, "        x = nn.functional.adaptive_avg_pool2d(x, (7, 7))")  # the advice, applied
    (tmp_path / "heads.py").write_text("\n".join(code) + "\n")
    (tmp_path / "flatten_head.yaml").write_text((corpus / "flatten_head.yaml").read_text())
    sys.modules.pop("heads", None)
    fixed = fs.inspect(tmp_path / "flatten_head.yaml", allow_python=True)
    assert fixed.stopped_at is None and [h.shape for h in fixed.head_outputs] == [(1, 10)]
    sys.modules.pop("heads", None)


def test_a_configuration_from_python_is_not_told_to_merge_into_a_file(corpus):
    cfg = {"input": {"height": 800, "width": 1333}, "backbone": {"kind": "synthetic", "channels": [16, 32, 64],
           "strides": [8, 16, 32]}, "neck": {"kind": "python", "target": "pooled_pan:PooledPAN"}}
    text = fs.inspect(cfg, allow_python=True).to_text()
    assert "Corrected configuration (as YAML):" in text and "merge into your file" not in text
    assert "Corrected YAML (merge into your file):" in fs.inspect(corpus / "pooled_pan.yaml", allow_python=True).to_text()


def test_a_head_that_fails_at_every_input_does_not_make_the_levels_unfixable(corpus):
    # at 800x1333 the FPN's levels misalign (167 vs 168) and the head fails as it does at any size
    report = fs.inspect(corpus / "flatten_head.yaml", allow_python=True, input="800x1333")
    crashed, misaligned = report.diagnostics
    assert (crashed.code, misaligned.code) == ("forward-error", "fusion-misalignment")
    assert misaligned.fix == {"input": {"height": 800, "width": 1344}}  # checked: the levels line up there
    assert crashed.fixes == ()  # padding does not make the head run: it is not proposed for it
    assert "no input lines every level up" not in misaligned.hint


def test_a_dict_backbone_keeps_its_keys_and_a_dict_neck_gets_them(corpus, cli):
    report = fs.inspect(corpus / "dict_backbone.yaml", allow_python=True)
    assert report.diagnostics == []
    assert [(lvl.name, lvl.key) for lvl in report.backbone_levels] == [("C2", "res2"), ("C3", "res3"), ("C4", "res4")]
    assert [(lvl.name, lvl.key) for lvl in report.levels] == [("P2", "p2"), ("P3", "p3"), ("P4", "p4")]
    assert [h.name for h in report.head_outputs] == ["cls P2", "cls P3", "cls P4"]
    assert report.params.head == 16 * 3 * 9 + 3  # TinyHead: one 3x3 conv to 3 classes on 16 channels
    table = cli("inspect", str(corpus / "dict_backbone.yaml"), "--allow-python").stdout
    assert "Key" in table and "res3" in table


def test_a_constructor_that_needs_real_tensors_is_built_on_the_cpu_and_measured_on_meta(corpus, cli):
    report = fs.inspect(corpus / "needs_real_tensors.yaml", allow_python=True)
    assert report.device.used == "meta" and report.diagnostics == []
    assert report.notes and "built on the CPU once the 5.44 KiB of parameters" in report.notes[0]
    assert [lvl.name for lvl in report.backbone_levels] == ["C3", "C4"]
    assert fs.inspect(corpus / "needs_real_tensors.yaml", allow_python=True, device="cpu").device.used == "cpu"
    # the note is in every view: under the terminal's header, and as a table in Markdown
    assert "\nnote: the backbone needs real tensors" in report.to_text()
    markdown = cli("inspect", str(corpus / "needs_real_tensors.yaml"), "--allow-python", "--format", "markdown")
    assert markdown.exit_code == 0 and "Notes" in markdown.stdout
    assert "built on the CPU once the 5.44 KiB of parameters" in markdown.stdout


def test_a_model_meta_cannot_run_falls_back_to_the_cpu_only_when_it_fits(tmp_path, monkeypatch):
    (tmp_path / "datadep.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class Keep(nn.Module):\n"
        "    def __init__(self, in_channels):\n"
        "        super().__init__()\n"
        "        self.proj = nn.ModuleList(nn.Conv2d(c, 8, 1) for c in in_channels)\n"
        "    def forward(self, feats):\n"
        "        outs = [p(x) for p, x in zip(self.proj, feats)]\n"
        "        return [o * (o.abs().sum() > 0).float().item() for o in outs]  # a value, not a shape\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = {"backbone": {"kind": "synthetic", "channels": [8, 16], "strides": [8, 16]},
           "neck": {"kind": "python", "target": "datadep:Keep"}, "input": {"height": 64, "width": 64}}
    report = fs.inspect(doc, allow_python=True)
    assert report.device.used == "cpu" and "could not run on the meta device" in report.device.note
    from fpnscope.analysis.measure import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 1)
    with pytest.raises(fs.ConfigError, match="needs about .* but cpu has 1 B available"):
        fs.inspect(doc, allow_python=True)
    sys.modules.pop("datadep", None)


def test_modules_and_factories_from_python(corpus):
    import timm
    from naive_fpn import NaiveFPN

    body = timm.create_model("resnet18", features_only=True, out_indices=(2, 3, 4))
    report = fs.inspect(backbone=body, neck=lambda in_channels: NaiveFPN(in_channels, 64), input=(800, 1344))
    assert [lvl.name for lvl in report.levels] == ["P3", "P4", "P5"] and report.params.neck == 168_320
    assert all(p.device.type == "cpu" for p in body.parameters()) and body.training  # the caller's module untouched
    failed = fs.inspect(backbone=body, neck=NaiveFPN(body.feature_info.channels(), 64), input=(800, 1333))
    assert crash(failed).facts["source"]["where"] == "naive_fpn.py:21"
    with pytest.raises(fs.ConfigError, match="either a target"):
        fs.inspect("resnet50_fpn", neck="fpn")


def test_torchvision_retinanet_as_it_is_split_by_its_stages():
    import torchvision

    model = torchvision.models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None)
    stages = {"backbone": "backbone.body", "neck": "backbone.fpn", "head": {"path": "head", "inputs": "list"}}
    report = fs.inspect(model, stages=stages, input=512)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert (report.params.backbone, report.params.neck, report.params.head) == (
        count(model.backbone.body), count(model.backbone.fpn), count(model.head))
    assert report.params.total == count(model)
    assert [(lvl.name, lvl.key) for lvl in report.levels] == [
        ("P3", "0"), ("P4", "1"), ("P5", "2"), ("P6", "p6"), ("P7", "p7")]
    assert [h.name for h in report.head_outputs] == ["cls_logits", "bbox_regression"]
    # named by what it is, not by an address that changes with every run
    assert (report.model.name, report.model.parts_of) == ("RetinaNet", "RetinaNet")
    with pytest.raises(fs.BuildError, match=r"no submodule 'hed'; did you mean 'head'\?"):
        fs.inspect(model, stages={**stages, "head": "hed"}, input=512)
    with pytest.raises(fs.BuildError, match="a whole detector returns its detections: measure it by its parts"):
        fs.inspect(model, input=512)  # no stages: its forward returns boxes, not maps


def test_torchvision_faster_rcnn_backbone_fpn_and_rpn_head_from_yaml(write_yaml):
    path = write_yaml("faster.yaml", {
        "model": {"target": "torchvision.models.detection:fasterrcnn_resnet50_fpn",
                  "kwargs": {"weights": None, "weights_backbone": None},
                  "stages": {"backbone": "backbone.body", "neck": "backbone.fpn"}},
        "head": {"kind": "part", "path": "rpn.head"},
        "input": {"height": 512, "width": 512},
    })
    with pytest.raises(fs.ConfigError, match="model: imports and runs"):
        fs.inspect(path)
    report = fs.inspect(path, allow_python=True)
    import torchvision

    model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert report.params.backbone == count(model.backbone.body) and report.params.neck == count(model.backbone.fpn)
    assert report.params.head == count(model.rpn.head) == 593_935
    assert [lvl.name for lvl in report.levels] == ["P2", "P3", "P4", "P5", "P6"]


def test_graph_of_a_crashed_neck_marks_the_failing_op(corpus, cli):
    report = fs.graph(corpus / "naive_fpn.yaml", allow_python=True)
    failing = report.nodes[-1]
    assert failing.role == "error" and failing.label == "add raised on 1×256×100×167 and 1×256×100×168"
    assert [report.nodes[i].label for i in failing.inputs] == ["lateral.1: conv 1×1 512→256", "upsample nearest 50×84→100×168"]
    assert report.error is not None and "naive_fpn.py:21" in report.error
    assert 'class="node"' in report.to_svg() and "add raised" in report.to_svg()
    result = cli("graph", str(corpus / "naive_fpn.yaml"), "--allow-python")
    assert result.exit_code == 1 and "✗ add fails in neck (naive_fpn.py:21)" in result.stdout


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_same_crash_on_cuda(corpus):
    finding = crash(fs.inspect(corpus / "naive_fpn.yaml", allow_python=True, device="cuda"))
    assert finding.facts["device"].startswith("cuda") and finding.facts["source"]["where"] == "naive_fpn.py:21"


NECK = """
from torch import nn


class Neck(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(c, WIDTH, 1) for c in in_channels])

    def forward(self, feats):
        return [conv(f) for conv, f in zip(self.convs, feats)]
"""


def _user_neck(folder: Path, width: int) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "myneck.py").write_text(NECK.replace("WIDTH", str(width)))
    (folder / "model.yaml").write_text(
        "input: {height: 64, width: 64}\n"
        "backbone: {kind: synthetic, channels: [8, 16], strides: [8, 16]}\n"
        "neck: {kind: python, target: myneck:Neck}\n")
    return folder / "model.yaml"


def test_each_call_imports_the_users_code_as_it_is_on_disk(tmp_path):
    # two folders with a myneck.py each: each variant runs its own file, not the first one imported
    one, two = _user_neck(tmp_path / "one", 8), _user_neck(tmp_path / "two", 32)
    try:
        assert [lvl.channels for lvl in fs.inspect(one, allow_python=True).levels] == [8, 8]
        assert [lvl.channels for lvl in fs.inspect(two, allow_python=True).levels] == [32, 32]
        report = fs.compare([one, two], allow_python=True)
        assert [v.levels for v in report.variants] == [["P3:8", "P4:8"], ["P3:32", "P4:32"]]
        # an edit between two calls in one process (a notebook's loop) is seen by the next call
        _user_neck(tmp_path / "one", 16)
        os.utime(tmp_path / "one" / "myneck.py", ns=(time.time_ns() + 10**9,) * 2)
        assert [lvl.channels for lvl in fs.inspect(one, allow_python=True).levels] == [16, 16]
    finally:
        sys.modules.pop("myneck", None)


@pytest.mark.parametrize("neck, message", [
    ({"target": "myneck.py:Neck"}, "neck.target: name the module without .py: 'myneck:Neck'"),
    ({"target": "myneck:Nek"}, "neck.target: 'myneck' has no attribute 'Nek'; did you mean 'Neck'?"),
    ({"target": "myneck:Neck", "kwargs": {"in_channel": [8, 16]}},
     "neck.kwargs.in_channel: Neck takes no argument 'in_channel'; did you mean 'in_channels'? (it takes in_channels)"),
])
def test_a_mistyped_target_or_keyword_is_told_what_was_meant(tmp_path, cli, neck, message):
    path = _user_neck(tmp_path, 8)
    doc = path.read_text().replace("neck: {kind: python, target: myneck:Neck}\n", "")
    items = ", ".join(f"{k}: {v if isinstance(v, dict) else repr(v)}" for k, v in neck.items())
    path.write_text(doc + f"neck: {{kind: python, {items}}}\n")
    try:
        result = cli("inspect", str(path), "--allow-python")
        assert result.exit_code == 2 and result.stderr.strip() == f"error: {path}: {message}", result.stderr
    finally:
        sys.modules.pop("myneck", None)


def test_a_file_that_does_not_parse_is_named_with_its_line(tmp_path, cli):
    path = _user_neck(tmp_path, 8)
    (tmp_path / "myneck.py").write_text("from torch import nn\n\nclass Neck(nn.Module:\n    pass\n")
    try:
        result = cli("inspect", str(path), "--allow-python")
        # once, as the user's mistake: not "raised SyntaxError (on meta, and again on the CPU)"
        assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}: neck.target: myneck.py:3: ")
        assert "again on the CPU" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    finally:
        sys.modules.pop("myneck", None)
