"""compare (variants, neck swaps, saved reports, budgets, failing variants) and graph (derived
from the module, right for every neck), and the output formats every report command shares."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from fpnscope.analysis.compare import compare_models, plan_variants
from fpnscope.analysis.graph import neck_graph
from fpnscope.analysis.measure import _BACKBONES
from fpnscope.config.loader import load_config
from fpnscope.config.presets import preset_names
from fpnscope.config.variants import parse_variant, split_top_level, swap_neck
from fpnscope.report_compare import Budget
from tests.conftest import SYNTHETIC, parse_json

SMALL = ("--input", "128")


def test_neck_comparison_keeps_backbone_and_swaps_the_neck(cli):
    result = cli("compare", "resnet50_fpn", "--neck", "fpn,pafpn,bifpn", "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress bar, not even its blank line, off a terminal
    data = parse_json(result.stdout)
    names = [v["name"] for v in data["variants"]]
    assert names == ["fpn", "pafpn", "bifpn"] and data["baseline"] == "fpn"
    backbones = {v["params"]["backbone"] for v in data["variants"]}
    assert backbones == {23_508_032}  # the same backbone under every neck
    fpn, pafpn, bifpn = data["variants"]
    assert pafpn["params"]["neck"] > fpn["params"]["neck"]
    assert pafpn["delta"]["params"] == pytest.approx((pafpn["params"]["total"] - fpn["params"]["total"]) / fpn["params"]["total"])
    assert fpn["delta"] == {}
    assert all(v["status"] == "ok" for v in data["variants"])
    assert bifpn["levels"] == ["P2:256", "P3:256", "P4:256", "P5:256", "P6:256"]


def test_backbone_is_analysed_once_for_all_neck_variants():
    _BACKBONES.clear()
    plan = plan_variants(["synthetic_fpn"], ["fpn", "pafpn", "bifpn"])
    compare_models(plan, ["input.height=64", "input.width=64"])
    assert len(_BACKBONES) == 1


def test_variants_from_overrides_and_sorting(cli):
    result = cli("compare", "synthetic_fpn", "--variant", "narrow: out_channels=64", "--variant",
                 "c4c5: in_features=[C4, C5], extra_levels={count: 1}", "--sort", "params", "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    variants = parse_json(result.stdout)["variants"]
    assert [v["name"] for v in variants] == ["synthetic_fpn", "narrow", "c4c5"]  # baseline first, then by params
    c4c5 = next(v for v in variants if v["name"] == "c4c5")
    assert c4c5["levels"] == ["P4:256", "P5:256", "P6:256"]


def test_a_failing_variant_shows_its_error_and_the_others_still_appear(cli):
    result = cli("compare", "yolov8n_pan", "--variant", "retina: head.kind=retina", "--variant",
                 "two: in_features=[C4, C5]", "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    variants = {v["name"]: v for v in parse_json(result.stdout)["variants"]}
    assert variants["yolov8n_pan"]["status"] == "ok"
    assert variants["two"]["status"] == "error" and "exactly three levels" in variants["two"]["error"]
    assert variants["retina"]["status"] == "ok"  # a head-mismatch is a finding, the head is left out
    text = cli("compare", "yolov8n_pan", "--variant", "two: in_features=[C4, C5]", *SMALL)
    assert text.exit_code == 0 and "error" in text.stdout and "yolo_pan fuses" in text.stdout


def test_saved_reports_and_budgets(cli, tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert cli("inspect", "resnet50_fpn", "-o", str(old), *SMALL).exit_code == 0
    assert cli("inspect", "resnet50_fpn", "--set", "neck.out_channels=320", "-o", str(new), *SMALL).exit_code == 0
    ok = cli("compare", str(old), str(new), "--fail-on", "macs>+50%", "--json")
    assert ok.exit_code == 0, ok.stderr
    data = parse_json(ok.stdout)
    assert [v["name"] for v in data["variants"]] == ["old", "new"]
    assert data["budgets"][0]["exceeded"] is False
    over = cli("compare", str(old), str(new), "--fail-on", "macs>+5%", "--fail-on", "params>100M")
    assert over.exit_code == 1
    assert "over budget: new: macs>+5%" in over.stderr
    assert "✗ over budget: new macs" in over.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", "resnet50_fpn", "synthetic_fpn", "--neck", "fpn"), "give exactly one target"),
        (("compare", "resnet50_fpn", "--neck", "fpm"), "no such neck kind; did you mean 'fpn'"),
        (("compare", "resnet50_fpn", "--variant", "oops"), "expected 'name: key=value"),
        (("compare", "resnet50_fpn", "--fail-on", "speed>1"), "expected METRIC>+N%"),
        (("compare", "resnet50_fpn", "--metric", "latency"), "measured only with --profile"),
        (("compare", "resnet50_fpn", "--sort", "colour"), "--sort 'colour'"),
        (("compare", "nope.json"), "nope.json: no such file"),
        (("compare", "resnet50_fpn", "--neck", "fpn,fpn"), "variant names must differ"),
    ],
)
def test_bad_compare_input(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr


def test_compare_not_a_report(cli, write_yaml, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = cli("compare", str(path))
    assert result.exit_code == 2 and "not a saved `fpnscope inspect --json` report" in result.stderr


def test_compare_with_profile(cli):
    result = cli("compare", "synthetic_fpn", "--neck", "fpn,pafpn", "--profile", "--device", "cpu",
                 "--metric", "latency", "--json", "--input", "64")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    variants = parse_json(result.stdout)["variants"]
    assert all(v["latency_ms"] > 0 and v["throughput_ips"] > 0 for v in variants)


def test_compare_human_output(cli):
    result = cli("compare", "resnet50_fpn", "--neck", "fpn,pafpn", *SMALL)
    assert result.exit_code == 0, result.stderr
    for text in ("baseline: fpn", "fpn (base)", "Per stage", "MACs per level", "MACs by variant", "█", "+"):
        assert text in result.stdout, text


def test_variant_helpers():
    assert split_top_level("a=[1, 2],b={c: 1, d: 2},e='x,y'") == ["a=[1, 2]", "b={c: 1, d: 2}", "e='x,y'"]
    assert parse_variant("w: out_channels=512") == ("w", ["neck.out_channels=512"])
    assert swap_neck({"kind": "bifpn", "width": 128}, "fpn") == {"kind": "fpn", "out_channels": 128}
    assert swap_neck({"kind": "fpn", "upsample": "bilinear"}, "simple_fpn") == {"kind": "simple_fpn"}
    assert Budget.parse("latency > 20").relative is False


# --- graph ----------------------------------------------------------------------------------------


def test_graph_of_an_fpn_is_the_textbook_one():
    report = neck_graph(load_config("synthetic_fpn", ["input.height=64", "input.width=64"]).config)
    roles = report.summary()
    assert (roles["input"], roles["lateral"], roles["top-down"], roles["fusion"], roles["transform"]) == (4, 4, 3, 3, 4)
    assert roles["fusion/2"] == 3
    by_id = {n.id: n for n in report.nodes}
    p3 = by_id[report.outputs["P3"]]
    assert p3.label.startswith("output.1: conv 3×3") and p3.shape == (1, 256, 8, 8)
    fusion = by_id[p3.inputs[0]]
    assert fusion.role == "fusion" and len(fusion.inputs) == 2
    assert {by_id[i].role for i in fusion.inputs} == {"lateral", "top-down"}


@pytest.mark.parametrize("name", preset_names())
def test_graph_of_every_preset_reaches_every_output(name):
    report = neck_graph(load_config(name, ["input.height=128", "input.width=128"]).config)
    assert set(report.outputs) == set(report.output_shapes)
    assert all(v is not None for v in report.outputs.values())
    ids = {n.id for n in report.nodes}
    assert all(i in ids for n in report.nodes for i in n.inputs)  # edges point at real nodes


def test_graph_of_bifpn_and_pafpn_have_their_paths():
    bifpn = neck_graph(load_config("efficientdet_d0", ["input.height=128", "input.width=128"]).config).summary()
    # three layers of 8 nodes: 4 top-down nodes of 2 inputs, 3 bottom-up nodes of 3 and one of 2
    assert bifpn["fusion/3"] == 9 and bifpn["fusion/2"] == 15
    # 4 upsamplings and 4 max-pools per layer, plus the max-pools that make P6 and P7 before the layers
    assert bifpn["top-down"] == 12 and bifpn["bottom-up"] == 12 + 2
    pafpn = neck_graph(load_config("r50_pafpn", ["input.height=128", "input.width=128"]).config).summary()
    assert pafpn["bottom-up"] == 3 and pafpn["fusion/2"] == 6 and pafpn["downsample"] == 1  # P6 by max-pool


def test_graph_of_a_users_own_neck(tmp_path, monkeypatch, cli):
    # a neck fpnscope has never seen: it is traced, not drawn
    (tmp_path / "myneck.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class Two(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a, self.b = nn.Conv2d(3, 4, 3, stride=4, padding=1), nn.Conv2d(4, 4, 3, stride=2, padding=1)\n"
        "    def forward(self, x):\n"
        "        a = self.a(x)\n"
        "        return [a, self.b(a)]\n"
    )
    monkeypatch.chdir(tmp_path)
    doc = dict(SYNTHETIC, backbone={"kind": "python", "target": "myneck:Two"}, neck={"kind": "fpn", "out_channels": 8})
    path = tmp_path / "m.yaml"
    path.write_text(json.dumps(doc))
    result = cli("graph", str(path), "--allow-python", "--json")
    assert result.exit_code == 0, result.stderr
    summary = parse_json(result.stdout)["summary"]
    assert summary["lateral"] == 2 and summary["fusion"] == 1


def test_graph_human_output(cli):
    result = cli("graph", "retinanet_r50_fpn", *SMALL)
    assert result.exit_code == 0, result.stderr
    for text in ("lateral", "top-down", "fusion nodes: 2 with 2 inputs", "Output levels", "P7", "Nodes in the order"):
        assert text in result.stdout, text


# --- output formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("inspect", "synthetic_fpn"), ("graph", "synthetic_fpn"),
                                     ("compare", "synthetic_fpn", "--neck", "fpn,pafpn"), ("presets", "list")])
def test_every_format(cli, tmp_path, command):
    args = [*command, *(SMALL if command[0] != "presets" else ())]
    as_json = cli(*args, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    json.loads(as_json.stdout)
    as_csv = cli(*args, "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    as_md = cli(*args, "--format", "markdown")
    assert "|---|" in as_md.stdout and as_md.stdout.startswith("## ")
    svg = tmp_path / "out.svg"
    written = cli(*args, "--output", str(svg))
    assert written.exit_code == 0 and written.stdout == "" and f"wrote {svg}" in written.stderr
    assert svg.read_text().startswith("<svg")
    txt = tmp_path / "out.txt"
    assert cli(*args, "-o", str(txt)).exit_code == 0 and txt.read_text().strip()
    assert oct(os.stat(txt).st_mode & 0o777) != oct(0o600)  # a normal file, not mkstemp's private one


def test_output_is_never_half_written(cli, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("previous")
    failed = cli("inspect", "no_such_preset", "-o", str(target))
    assert failed.exit_code == 2
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left behind
    missing = cli("inspect", "synthetic_fpn", "-o", str(tmp_path / "nope" / "r.json"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--json", "--format", "csv"), "disagree"),
        (("--format", "xml"), "--format 'xml'"),
        (("-o", "report.pdf"), "end the name in .json .csv .md .txt or .svg"),
    ],
)
def test_bad_format_options(cli, args, message):
    result = cli("inspect", "synthetic_fpn", *args)
    assert result.exit_code == 2 and message in result.stderr
