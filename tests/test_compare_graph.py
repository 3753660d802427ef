"""compare (variants, neck swaps, saved reports, budgets, failing variants) and graph (derived
from the module, right for every neck), and the output formats every report command shares."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from fpnscope.analysis.compare import compare_models, plan_variants
from fpnscope.analysis.graph import neck_graph
from fpnscope.cli.args import parse_variant, split_top_level
from fpnscope.config.overrides import Override
from fpnscope.config.presets import preset_names
from fpnscope.config.variants import swap_neck
from fpnscope.reports.compare import Budget
from tests.conftest import SYNTHETIC, parse_json
from tests.helpers import load_config

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


def test_backbone_is_built_once_for_all_neck_variants_and_calls_share_nothing(monkeypatch):
    import fpnscope as fs
    from fpnscope.analysis.measure import backbone as run

    built = []
    real = run.build_backbone
    monkeypatch.setattr(run, "build_backbone", lambda *args: built.append(args[0].kind) or real(*args))
    plan = plan_variants(["synthetic_fpn"], ["fpn", "pafpn", "bifpn"])
    compare_models(plan, [Override("input.height", 256), Override("input.width", 256)])  # no input to propose
    assert built == ["synthetic"]  # the compare call's own cache served the other two necks
    fs.inspect("synthetic_fpn", input=256)
    fs.inspect("synthetic_fpn", input=256)
    assert len(built) == 3  # two separate calls: each builds its own


# given in neither params nor name order, so that a sort that does nothing is seen
UNSORTED = ("--variant", "wide: out_channels=512", "--variant", "c4c5: in_features=[C4, C5], extra_levels={count: 1}",
            "--variant", "narrow: out_channels=64")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("params", ["synthetic_fpn", "narrow", "c4c5", "wide"]), ("name", ["synthetic_fpn", "c4c5", "narrow", "wide"])],
)
def test_variants_from_overrides_and_sorting(cli, sort, expected):
    unsorted = cli("compare", "synthetic_fpn", *UNSORTED, "--json", *SMALL)
    assert unsorted.exit_code == 0, unsorted.stderr
    assert [v["name"] for v in parse_json(unsorted.stdout)["variants"]] == ["synthetic_fpn", "wide", "c4c5", "narrow"]
    result = cli("compare", "synthetic_fpn", *UNSORTED, "--sort", sort, "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    variants = data["variants"]
    assert [v["name"] for v in variants] == expected  # the baseline stays first, the rest are sorted
    assert data["baseline"] == "synthetic_fpn"
    if sort == "params":
        totals = [v["params"]["total"] for v in variants[1:]]
        assert totals == sorted(totals) and len(set(totals)) == len(totals)
        assert variants[0]["params"]["total"] > totals[0]  # the baseline is not sorted in with them
    c4c5 = next(v for v in variants if v["name"] == "c4c5")
    assert c4c5["levels"] == ["P4:256", "P5:256", "P6:256"]


def test_sort_by_throughput_is_fastest_first(cli):
    # a 16-channel and a 1024-channel neck on a backbone without work: far apart, slowest given first
    result = cli("compare", "synthetic_fpn", "--variant", "wide: out_channels=1024", "--variant", "narrow: out_channels=16",
                 "--profile", "--device", "cpu", "--sort", "throughput", "--json", "--input", "64")
    assert result.exit_code == 0, result.stderr
    variants = parse_json(result.stdout)["variants"]
    assert variants[0]["name"] == "synthetic_fpn"
    assert {v["name"] for v in variants[1:]} == {"wide", "narrow"}
    throughputs = [v["throughput_ips"] for v in variants[1:]]
    assert all(t > 0 for t in throughputs)
    assert throughputs == sorted(throughputs, reverse=True)  # higher is better: descending


def test_a_failing_variant_shows_its_error_and_the_others_still_appear(cli):
    result = cli("compare", "yolov8n_pan", "--variant", "retina: head.kind=retina", "--variant",
                 "two: in_features=[C4, C5]", "--json", *SMALL)
    assert result.exit_code == 1, result.stderr  # a CI gate must not pass over a variant that did not build
    assert "failed: two: " in result.stderr
    variants = {v["name"]: v for v in parse_json(result.stdout)["variants"]}
    assert variants["yolov8n_pan"]["status"] == "ok"
    assert variants["two"]["status"] == "error" and "exactly three levels" in variants["two"]["error"]
    assert variants["retina"]["status"] == "ok"  # a head-mismatch is a finding, the head is left out
    text = cli("compare", "yolov8n_pan", "--variant", "two: in_features=[C4, C5]", *SMALL)
    assert text.exit_code == 1 and "error" in text.stdout and "yolo_pan fuses" in text.stdout


def test_a_variant_whose_forward_raised_is_a_failed_row_not_an_improvement(cli, monkeypatch):
    corpus = Path(__file__).parent / "usercode"
    monkeypatch.syspath_prepend(str(corpus))
    result = cli("compare", "resnet18_fpn_c3c5_128", str(corpus / "pooled_pan.yaml"), "--allow-python", "--json")
    assert result.exit_code == 1 and "failed: pooled_pan: the neck's forward raised: add fails in neck" in result.stderr
    crashed = {v["name"]: v for v in parse_json(result.stdout)["variants"]}["pooled_pan"]
    assert crashed["status"] == "error" and "pooled_pan.py:21" in crashed["error"]


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


def test_absolute_budgets_apply_to_every_variant_the_baseline_too(cli):
    # synthetic_fpn's neck alone: fpn 3.34 M params, pafpn 6.88 M
    args = ("compare", "synthetic_fpn", "--neck", "fpn,pafpn", *SMALL)
    over = cli(*args, "--fail-on", "params>5M")
    assert over.exit_code == 1, over.stderr
    lines = over.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("over budget: pafpn: params>5M ")
    # stdout is still the whole report, with the verdict of each variant
    for text in ("baseline: fpn", "Per stage", "MACs by variant", "✗ over budget: pafpn params = 6.88 M (limit params>5M)",
                 "✓ within budget: fpn params = 3.34 M (limit params>5M)"):
        assert text in over.stdout, text
    assert "over budget: pafpn: params" not in over.stdout
    # unlike a relative budget, an absolute one holds for the baseline as well
    both = cli(*args, "--fail-on", "params>3M", "--json")
    assert both.exit_code == 1
    assert [line.split(" (")[0] for line in both.stderr.splitlines()] == [
        "over budget: fpn: params>3M", "over budget: pafpn: params>3M"]
    checks = parse_json(both.stdout)["budgets"]
    assert [(c["variant"], c["exceeded"], c["limit"]) for c in checks] == [("fpn", True, 3e6), ("pafpn", True, 3e6)]
    assert [c["value"] for c in checks] == [3_344_384, 6_884_864]
    within = cli(*args, "--fail-on", "params>7M", "--json")
    assert within.exit_code == 0 and within.stderr == ""
    assert [c["exceeded"] for c in parse_json(within.stdout)["budgets"]] == [False, False]


def test_metric_chooses_the_bar_chart(cli):
    args = ("compare", "synthetic_fpn", "--neck", "fpn,pafpn", *SMALL)
    data = parse_json(cli(*args, "--metric", "params", "--json").stdout)
    assert data["metric"] == "params"
    assert parse_json(cli(*args, "--json").stdout)["metric"] == "macs"  # the default
    text = cli(*args, "--metric", "params")
    assert text.exit_code == 0 and text.stderr == ""
    assert "Params by variant" in text.stdout and "MACs by variant" not in text.stdout
    chart = text.stdout[text.stdout.index("Params by variant"):].splitlines()
    bars = {line.split()[0]: line for line in chart if "█" in line or "·" in line}
    # the bars are params: pafpn, the largest, fills the bar; fpn's is 3.34/6.88 of it
    assert bars["pafpn"].count("█") == 40 and bars["pafpn"].rstrip().endswith("6.88 M")
    assert bars["fpn"].count("█") == round(40 * 3_344_384 / 6_884_864) and bars["fpn"].rstrip().endswith("3.34 M")


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
    name, items = parse_variant("w: out_channels=512")
    assert (name, [(o.key, o.value, o.origin) for o in items]) == ("w", [("neck.out_channels", 512, "--variant 'w': neck.out_channels=512")])
    assert swap_neck({"kind": "bifpn", "width": 128}, "fpn") == {"kind": "fpn", "out_channels": 128}
    assert swap_neck({"kind": "fpn", "upsample": "bilinear"}, "simple_fpn") == {"kind": "simple_fpn"}
    assert Budget.parse("latency > 20").relative is False


@pytest.mark.parametrize(
    ("text", "op", "limit"),
    [("memory>512MiB", ">", 512 * 2**20), ("memory > 1.5GiB", ">", 1.5 * 2**30), ("throughput<-5%", "<", -5.0),
     ("latency>20ms", ">", 20.0), ("params>30M", ">", 30e6)],
)
def test_budget_units_and_directions(text, op, limit):
    budget = Budget.parse(text)
    assert (budget.op, budget.limit) == (op, limit)
    assert budget.exceeded_by(limit + 1) is (op == ">") and budget.exceeded_by(limit - 1) is (op == "<")


@pytest.mark.parametrize(
    ("text", "message"),
    [("throughput>+5%", "fails when throughput gets better; .* throughput<-5%"),
     ("macs<-5%", "fails when macs gets better; .* macs>\\+5%"),
     ("params>5MiB", "MiB is a unit of memory, not params"),
     ("memory>5ms", "ms is a unit of latency, not memory")],
)
def test_budgets_that_cannot_mean_what_they_say_are_refused(cli, text, message):
    result = cli("compare", "synthetic_fpn", "--fail-on", text)
    assert result.exit_code == 2 and result.stdout == ""
    assert re.search(message, result.stderr), result.stderr


def test_memory_budget_reads_and_reports_binary_units(cli):
    result = cli("compare", "synthetic_fpn", "--neck", "fpn,pafpn", "--fail-on", "memory>1KiB", "--input", "64")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(re.fullmatch(r"over budget: \w+: memory>1KiB \(memory = [\d.]+ MiB\)", x)
                                   for x in lines), lines


def test_variants_at_different_inputs_are_shown_and_warned_about(cli, tmp_path):
    saved = tmp_path / "base.json"
    assert cli("inspect", "synthetic_fpn", "--input", "128", "-o", str(saved)).exit_code == 0
    result = cli("compare", str(saved), "synthetic_fpn", "--input", "64", "--batch", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == (
        "warning: the variants were analysed at different inputs (base 128×128, synthetic_fpn 64×64, batch 2); "
        "their deltas and relative budgets compare different work"
    )
    assert "Input" in result.stdout and "64×64, batch 2" in result.stdout
    data = parse_json(cli("compare", str(saved), "synthetic_fpn", "--input", "64", "--json").stdout)
    assert [v["input"] for v in data["variants"]] == [[1, 3, 128, 128], [1, 3, 64, 64]]
    same = cli("compare", "synthetic_fpn", "--neck", "fpn,pafpn", "--input", "64")
    assert same.stderr == "" and "2 variants · baseline: fpn · input 64×64" in same.stdout


def test_level_macs_keep_ops_on_no_grid_and_skip_empty_levels(cli):
    data = parse_json(cli("compare", "swin_t_fpn", "--neck", "fpn", "--input", "256", "--json").stdout)
    (variant,) = data["variants"]
    assert sum(variant["level_macs"].values()) == variant["macs"]["total"]  # every MAC has a row
    one = cli("compare", "resnet50_fpn", "--neck", "fpn,pafpn", "--input", "128")
    assert "6 (/64)" not in one.stdout  # the max-pooled P6 has no MACs in either variant
    assert "1 variant ·" in cli("compare", "synthetic_fpn", "--input", "64").stdout


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
    assert list(report.outputs) == list(report.output_shapes)
    by_id = {n.id: n for n in report.nodes}
    assert len(by_id) == len(report.nodes)
    assert all(i in by_id for n in report.nodes for i in n.inputs)  # edges point at real nodes
    for level, node_id in report.outputs.items():
        assert node_id is not None, level
        node = by_id[node_id]
        # the node the graph says makes this level makes a map of the measured shape ...
        assert node.shape == tuple(report.output_shapes[level]), level
        # ... and is a node of the neck, not a backbone level passed through, unless the neck is identity
        if report.neck == "identity":
            assert node.role == "input" and node.kind == "input", level
        else:
            assert node.role != "input" and node.kind != "input", level


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
    big = cli("graph", "efficientdet_d0", *SMALL)  # 83 nodes: no tree, and a line that says so
    assert "Output levels" not in big.stdout and "lineage tree of each output is left out: 83 nodes" in big.stdout


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
    umask = os.umask(0)
    os.umask(umask)
    # as a plain open() creates it (0o666 less the umask), not mkstemp's private 0o600
    assert oct(os.stat(txt).st_mode & 0o777) == oct(0o666 & ~umask)
    assert oct(os.stat(svg).st_mode & 0o777) == oct(0o666 & ~umask)
    # and under a umask that tells those apart whatever this machine's is (0o640: not 0o600, 0o644 or 0o666)
    strict = tmp_path / "strict.txt"
    previous = os.umask(0o027)
    try:
        assert cli(*args, "-o", str(strict)).exit_code == 0
    finally:
        os.umask(previous)
    assert oct(os.stat(strict).st_mode & 0o777) == oct(0o640)


def test_output_is_never_half_written(cli, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("previous")
    failed = cli("inspect", "no_such_preset", "-o", str(target))
    assert failed.exit_code == 2
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left behind
    missing = cli("inspect", "synthetic_fpn", "-o", str(tmp_path / "nope" / "r.json"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    for extra in ((), ("--format", "json")):  # a folder is not taken for a name without a suffix
        folder = cli("inspect", "synthetic_fpn", "-o", str(tmp_path), *extra)
        assert folder.exit_code == 2 and f"--output {tmp_path}: is a folder; name a file in it" in folder.stderr


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


def test_compare_markdown_has_a_table_for_people_and_csv_keeps_the_flat_one(cli):
    md = cli("compare", "synthetic_fpn", "--neck", "fpn,pafpn", "--input", "64", "--format", "markdown")
    assert md.exit_code == 0, md.stderr
    assert "### Variants against the baseline" in md.stdout
    assert "| pafpn | 64×64 | 6.88 M (+105.9%) |" in md.stdout
    csv_text = cli("compare", "synthetic_fpn", "--neck", "fpn,pafpn", "--input", "64", "--format", "csv").stdout
    assert "Variants against" not in csv_text and csv_text.startswith("variant,source,status")
