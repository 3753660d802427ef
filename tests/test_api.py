"""The library: `import fpnscope as fs`, the calls, the report objects and how they display."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import fpnscope as fs
from fpnscope.reports.compare import CompareReport
from fpnscope.reports.graph import GraphReport
from fpnscope.reports.inspect import InspectReport
from fpnscope.reports.profile import ProfileReport
from tests.conftest import SYNTHETIC

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_package_imports_neither_torch_nor_rich():
    code = "import fpnscope as fs; fs.ConfigError; fs.LevelSpec; import sys; print('\\n'.join(sys.modules))"
    modules = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=ROOT).stdout.split())
    assert "fpnscope" in modules
    assert not {"torch", "rich", "timm", "torchvision", "pydantic", "fpnscope.api"} & modules


def test_inspect_a_preset_gives_typed_figures():
    report = fs.inspect("resnet50_fpn")
    assert isinstance(report, InspectReport)
    assert report.params.total == 26_852_416
    assert report.params.backbone + report.params.neck == report.params.total and report.params.head is None
    assert report.flops.total == 2 * report.macs.total > 0
    assert [lvl.name for lvl in report.levels] == ["P2", "P3", "P4", "P5", "P6"]
    assert [lvl.name for lvl in report.backbone_levels] == ["C2", "C3", "C4", "C5"]
    assert report.levels[1].shape == (1, 256, 100, 167) and report.levels[1].sources == ("C3", "C4", "C5")
    assert report.memory is not None and report.memory.total_bytes > report.memory.params_bytes > 0
    assert [f.code for f in report.diagnostics] == ["fusion-misalignment"]
    assert report.corrected == {"input": {"height": 800, "width": 1344}}
    assert report.diagnostics[0].fixes[0].multiple == 32  # a typed fix, not a sentence
    assert report.to_dict()["params"]["total"] == 26_852_416


def test_every_kind_of_target():
    from_dict = fs.inspect(SYNTHETIC)
    path = ROOT / "presets" / "synthetic_fpn.yaml"
    from_path, from_str = fs.inspect(path, input=(128, 160)), fs.inspect(str(path), input="128x160")
    config = fs.load(SYNTHETIC, set={"neck.out_channels": 64})
    from_config = fs.inspect(config)
    again = fs.inspect(config, set={"neck.out_channels": 32}, batch=2)
    assert [lvl.channels for lvl in from_dict.levels] == [256] * 4
    assert from_path.levels == from_str.levels
    assert {lvl.channels for lvl in from_config.levels} == {64}
    assert {lvl.channels for lvl in again.levels} == {32} and again.input.batch == 2
    assert config.config.neck.out_channels == 64  # loading again left the first configuration as it was


def test_load_takes_overrides_as_a_mapping_and_sizes_in_every_spelling():
    for size in (96, "96", "96x96", (96, 96)):
        assert fs.load("synthetic_fpn", input=size).config.input.height == 96
    loaded = fs.load("resnet50_fpn", set={"neck.extra_levels": None, "neck.in_features": ["C3", "C4", "C5"]})
    assert loaded.config.neck.extra_levels is None and loaded.config.neck.in_features == ("C3", "C4", "C5")


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: fs.inspect("resnet50_fnp"), "did you mean 'resnet50_fpn'"),
        (lambda: fs.inspect("synthetic_fpn", device="tpu"), "device 'tpu': use meta, cpu"),
        (lambda: fs.inspect("synthetic_fpn", input="abc"), "input 'abc': expected HxW"),
        (lambda: fs.inspect("synthetic_fpn", set={"neck.out_chanels": 1}), "(from set['neck.out_chanels'])"),
        (lambda: fs.load("synthetic_fpn", set=["neck.out_channels=1"]), "set takes a mapping"),
        (lambda: fs.compare(["synthetic_fpn"], metric="speed"), "metric 'speed': use one of"),
        (lambda: fs.compare(["synthetic_fpn"], fail_on=["latency>5"]), "add profile=True"),
        (lambda: fs.load(3.5), "cannot load a float"),
    ],
)
def test_bad_input_raises_config_error_without_naming_flags(call, words):
    with pytest.raises(fs.ConfigError) as info:
        call()
    message = str(info.value)
    assert words in message
    assert "--" not in message  # the command line adds its own spelling


def test_several_problems_of_a_document_are_each_structured():
    with pytest.raises(fs.ConfigError) as info:
        fs.load(SYNTHETIC, set={"neck.out_channels": 0, "input.height": -1})
    problems = info.value.problems
    assert {p.key for p in problems} == {"neck.out_channels", "input.height"}
    assert all(p.origin for p in problems) and all(p.file == "<dict>" for p in problems)


def test_user_code_runs_only_when_allowed(tmp_path):
    (tmp_path / "mybb.py").write_text(
        "from torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Conv2d(3, 8, 3, stride=8, padding=1)\n"
        "        self.b = nn.Conv2d(8, 16, 3, stride=2, padding=1)\n"
        "    def forward(self, x):\n"
        "        c3 = self.a(x)\n"
        "        return [c3, self.b(c3)]\n"
    )
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"backbone": {"kind": "python", "target": "mybb:Net"},
                                    "neck": {"kind": "fpn", "out_channels": 8}, "input": {"height": 64, "width": 64}}))
    with pytest.raises(fs.ConfigError, match="add allow_python=True if you trust this file"):
        fs.inspect(path)
    with pytest.raises(fs.ConfigError, match="allow_python=True"):
        fs.graph(path)
    assert [lvl.name for lvl in fs.inspect(path, allow_python=True).levels] == ["P3", "P4"]
    assert sorted(fs.graph(path, allow_python=True).outputs) == ["P3", "P4"]


def test_compare_returns_variants_with_deltas():
    report = fs.compare(["resnet50_fpn"], necks=["fpn", "bifpn"], input=128)
    assert isinstance(report, CompareReport)
    assert [v.name for v in report.variants] == ["fpn", "bifpn"] and report.baseline.name == "fpn"
    assert report.delta(report.variants[1], "params") == pytest.approx(
        report.variants[1].params["total"] / report.variants[0].params["total"] - 1)
    derived = fs.compare("synthetic_fpn", variants={"narrow": {"neck.out_channels": 64}}, input=64, sort="params",
                         fail_on=["params>+1%"])
    assert [v.name for v in derived.variants] == ["synthetic_fpn", "narrow"]
    assert derived.over_budget == []  # narrower is smaller: within the budget


def test_compare_reads_reports_saved_by_earlier_versions():
    old = ROOT / "tests" / "data" / "inspect-0.1.0-retinanet_r50_fpn.json"
    assert "schema_version" not in json.loads(old.read_text())
    report = fs.compare([str(old), "retinanet_r50_fpn"], input=256)
    saved, live = report.variants
    assert saved.status == "ok" and saved.params == live.params and saved.macs == live.macs
    assert saved.levels == live.levels


def test_profile_and_graph_return_their_reports():
    timed = fs.profile("synthetic_fpn", device="cpu", input=[64, "48x64"], batch=1, iters=2, warmup=0)
    assert isinstance(timed, ProfileReport)
    assert [(p.height, p.width, p.status) for p in timed.points] == [(64, 64, "ok"), (48, 64, "ok")]
    assert timed.points[0].stages["model"].timing.iters == 2
    drawn = fs.graph("retinanet_r50_fpn", input=256)
    assert isinstance(drawn, GraphReport) and drawn.model == "retinanet_r50_fpn"
    assert list(drawn.outputs) == ["P3", "P4", "P5", "P6", "P7"]


def test_every_report_displays_its_tables():
    from rich.console import Console

    reports = {
        "inspect": (fs.inspect("retinanet_r50_fpn", input=256), ["Pyramid levels", "Cost", "Head outputs"]),
        "compare": (fs.compare(["synthetic_fpn"], necks=["fpn", "pafpn"], input=64), ["baseline: fpn", "Per stage"]),
        "profile": (fs.profile("synthetic_fpn", device="cpu", input=64, iters=1, warmup=0), ["Latency per stage"]),
        "graph": (fs.graph("synthetic_fpn", input=64), ["Nodes in the order they run"]),
        "presets": (fs.presets(), ["bundled presets", "resnet50_fpn"]),
    }
    for name, (report, words) in reports.items():
        page = report._repr_html_()
        text = report.to_text()
        console = Console(record=True, width=100, file=__import__("io").StringIO())
        console.print(report)  # through __rich__
        printed = console.export_text()
        for word in words:
            assert word in page, (name, word)
            assert word in text and word in printed, (name, word)
        assert page.startswith("<") and "<table" not in text
        document = json.loads(report.to_json())
        assert document == json.loads(json.dumps(report.to_dict()))
        if isinstance(document, dict):
            assert document["schema_version"] == 2
    graph_page = reports["graph"][0]._repr_html_()
    assert "<svg" in graph_page and "P5" in graph_page  # the drawing, without a system graphviz


def test_calls_share_no_state():
    """Nothing a call does is seen by the next: module-level containers of the package are as
    they were, and a train-mode profile leaves no trained or train-mode module behind."""
    import copy
    import importlib
    import pkgutil

    def snapshot() -> dict[str, str]:
        state = {}
        for info in pkgutil.walk_packages(fs.__path__, "fpnscope."):
            if info.name.endswith("__main__"):
                continue  # running it is the command line
            module = importlib.import_module(info.name)
            for key, value in vars(module).items():
                if isinstance(value, (dict, list, set)) and not key.startswith("__"):
                    state[f"{info.name}.{key}"] = repr(copy.copy(value))
        return state

    before = snapshot()
    first = fs.inspect("resnet18_fpn_c3c5_128", input=64).to_dict()
    fs.profile("resnet18_fpn_c3c5_128", device="cpu", input=64, mode="train", iters=1, warmup=0)
    fs.compare(["resnet18_fpn_c3c5_128"], necks=["fpn", "pafpn"], input=64)
    second = fs.inspect("resnet18_fpn_c3c5_128", input=64).to_dict()
    assert first == second
    assert snapshot() == before


def test_python_defaults_and_an_empty_yaml_section_build_the_same_module():
    """Every option has one default: a builder called with no options builds exactly what a
    preset's bare `neck: {kind: ...}` or `head: {kind: ...}` builds."""
    from fpnscope.config.kinds import HEADS, NECKS
    from fpnscope.models.assemble import builder
    from fpnscope.spec import LevelSpec

    specs = [LevelSpec.of("C", c, s) for c, s in ((64, 8), (128, 16), (256, 32))]
    for kind in [k for k, info in NECKS.items() if not info.code]:  # the user's code has no defaults to build
        reads = specs[-1:] if kind == "simple_fpn" else specs
        doc = {"backbone": {"kind": "synthetic", "channels": [s.channels for s in reads],
                            "strides": [s.stride for s in reads]}, "neck": {"kind": kind}}
        from_yaml, yaml_specs = builder("neck", kind)(reads, fs.load(doc).config.neck)
        from_python, python_specs = builder("neck", kind)(reads)
        assert repr(from_yaml) == repr(from_python) and yaml_specs == python_specs, kind
    pyramid = [LevelSpec.of("P", 64, s) for s in (8, 16, 32)]
    for kind in [k for k, info in HEADS.items() if not info.code]:
        doc = {"backbone": {"kind": "synthetic", "channels": [64], "strides": [8]}, "neck": {"kind": "identity"},
               "head": {"kind": kind}}
        assert repr(builder("head", kind)(pyramid, fs.load(doc).config.head)) == repr(builder("head", kind)(pyramid))
