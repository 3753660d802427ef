"""The command line through Typer's CliRunner: exit codes, stdout vs stderr, JSON that parses."""

from __future__ import annotations

import pytest
import torch

from fpnscope import __version__
from fpnscope.config.presets import preset_names
from tests.conftest import SYNTHETIC, parse_json

SMALL = ("--input", "64x96")


def test_inspect_json_contract(cli):
    result = cli("inspect", "resnet50_fpn", "--json", "--input", "128x192", "--batch", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = parse_json(result.stdout)
    assert data["input"] == {"batch": 2, "channels": 3, "height": 128, "width": 192}
    for key in ("backbone_levels", "levels"):
        for level in data[key]:
            assert {"name", "shape", "stride", "channels"} <= set(level)
    assert [lvl["name"] for lvl in data["levels"]] == ["P2", "P3", "P4", "P5", "P6"]
    assert data["levels"][0]["shape"] == [2, 256, 32, 48]
    for key in ("params", "macs", "flops"):
        assert set(data[key]) == {"total", "backbone", "neck", "head"}
        assert data[key]["head"] is None
        assert data[key]["total"] == data[key]["backbone"] + data[key]["neck"]
    assert data["flops"]["total"] == 2 * data["macs"]["total"]
    assert data["params"]["total"] == 26_852_416
    assert data["diagnostics"] == []
    assert data["device"]["used"] == "meta"


def test_inspect_human_output_has_every_section(cli):
    result = cli("inspect", "retinanet_r50_fpn", "--input", "256x384", "--depth", "2")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("Backbone levels", "Pyramid levels", "Fed by", "Cost", "FLOPs (2×MACs)", "Modules", "lateral",
                 "no alignment problems", "1×3×256×384", "MACs per level", "Head outputs (retina)"):
        assert text in out, text
    assert "P7" in out and "C2" not in out  # RetinaNet reads C3..C5 only


def test_channel_mismatch_exits_1_with_the_fix(cli):
    result = cli("inspect", "pvt_v2_b2_fpn", *SMALL, "--set", "neck.in_channels=[64, 128, 256, 512]")
    assert result.exit_code == 1
    assert "channel-mismatch" in result.stdout
    assert "neck.in_channels[2] says 256 but the backbone's C4 has 320 channels" in result.stdout
    assert "in_channels: [64, 128, 320, 512]" in result.stdout
    assert "Pyramid levels" in result.stdout  # the rest of the report is still printed


def test_channel_mismatch_json_also_exits_1(cli):
    result = cli("inspect", "synthetic_fpn", *SMALL, "--json", "--set", "neck.in_channels=[1, 2, 3, 4]")
    assert result.exit_code == 1
    data = parse_json(result.stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["channel-mismatch"] * 4
    assert {d["severity"] for d in data["diagnostics"]} == {"error"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("inspect", "resnet50_fnp"), "unknown preset 'resnet50_fnp'; did you mean 'resnet50_fpn'"),
        (("inspect", "missing.yaml"), "missing.yaml: no such file"),
        (("inspect", "resnet50_fpn", "--input", "abc"), "--input 'abc': expected HxW"),
        (("inspect", "resnet50_fpn", "--input", "0x0"), "--input '0x0': height and width must be positive"),
        (("inspect", "resnet50_fpn", "--batch", "-1"), "--batch -1: must be a positive integer"),
        (("inspect", "resnet50_fpn", "--set", "neck.out_chanels=1"), "did you mean 'out_channels'"),
        (("inspect", "resnet50_fpn", "--set", "oops"), "expected key.path=value"),
        (("inspect", "resnet50_fpn", "--device", "tpu"), "--device 'tpu': use meta, cpu"),
        (("inspect", "resnet50_fpn", "--flops-backend", "ptflops"), "use torch or fvcore"),
        (("inspect", "resnet50_fpn", "--set", "neck.in_features=[C3, C9]"), "the backbone has no level 'C9'"),
        (("inspect", "resnet50_fpn", "--set", "neck.in_features=[C5, C3]"), "list levels finest first"),
        (("presets", "show", "nope"), "unknown preset 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_message_on_stderr(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(cli):
    result = cli("inspect", "synthetic_fpn", "--device", "cuda")
    assert result.exit_code == 2
    assert "CUDA is not available on this machine; use --device meta or cpu" in result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_inspect_on_cuda_matches_meta(cli, devices_seen):
    meta = parse_json(cli("inspect", "resnet50_fpn", "--json", *SMALL).stdout)
    devices_seen.clear()
    result = cli("inspect", "resnet50_fpn", "--json", "--device", "cuda", *SMALL)
    assert result.exit_code == 0, result.stderr
    assert "cuda" in devices_seen
    cuda = parse_json(result.stdout)
    assert cuda["device"]["used"].startswith("cuda")
    assert cuda["levels"] == meta["levels"] and cuda["macs"] == meta["macs"]


def test_inspect_yaml_file(cli, write_yaml):
    path = write_yaml("mine.yaml", SYNTHETIC)
    result = cli("inspect", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    assert data["model"]["name"] == "mine"
    assert data["params"]["backbone"] == 0


def test_cpu_device_runs_real_tensors(cli, devices_seen):
    result = cli("inspect", "synthetic_fpn", "--device", "cpu", *SMALL, "--json")
    assert result.exit_code == 0, result.stderr
    assert "cpu" in devices_seen  # real tensors, after the meta estimate of the memory needed
    device = parse_json(result.stdout)["device"]
    assert device["used"] == "cpu" and device["note"] is None


def test_fvcore_backend_prints_the_cross_check(cli):
    result = cli("inspect", "synthetic_fpn", *SMALL, "--flops-backend", "fvcore")
    assert result.exit_code == 0, result.stderr
    assert "Cross-check: fvcore" in result.stdout and "(+0.00%)" in result.stdout


def test_presets_list_and_json(cli):
    result = cli("presets", "list")
    assert result.exit_code == 0
    for name in preset_names():
        assert name in result.stdout
    rows = parse_json(cli("presets", "list", "--json").stdout)
    assert [r["name"] for r in rows] == preset_names()
    by_name = {r["name"]: r for r in rows}
    assert by_name["retinanet_r50_fpn"]["levels"] == ["P3", "P4", "P5", "P6", "P7"]


def test_presets_show_raw_and_resolved(cli):
    raw = cli("presets", "show", "resnet50_fpn")
    assert raw.exit_code == 0 and "kind: torchvision" in raw.stdout and "# P6" in raw.stdout
    resolved = cli("presets", "show", "resnet50_fpn", "--resolved")
    assert resolved.exit_code == 0
    assert "gn_groups: 32" in resolved.stdout  # defaults filled in


def test_schema_is_json_with_every_kind(cli):
    result = cli("schema")
    assert result.exit_code == 0
    schema = parse_json(result.stdout)
    assert "_base_" in schema["properties"]
    assert {"FPNNeck", "TimmBackbone", "SyntheticBackbone"} <= set(schema["$defs"])


def test_version_and_help(cli):
    assert cli("--version").stdout.strip() == f"fpnscope {__version__}"
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("inspect", "presets", "schema"):
        assert command in result.stdout


def test_usage_errors_exit_2(cli):
    result = cli("inspect")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_python_backbone_from_set_needs_permission(cli):
    result = cli("inspect", "synthetic_fpn", "--set", "backbone={kind: python, target: 'os:getcwd'}")
    assert result.exit_code == 2
    assert "add --allow-python" in result.stderr
    allowed = cli("inspect", "synthetic_fpn", "--allow-python", "--set", "backbone={kind: python, target: 'os:getcwd'}")
    assert allowed.exit_code == 2  # now it runs the target, which is no backbone factory
    assert "takes no keyword" in allowed.stderr or "not a torch.nn.Module" in allowed.stderr


@pytest.fixture
def collector():
    """Give the cycle collector back as it was: main() pauses it, a real-device run resumes it."""
    import gc
    import signal

    handler = signal.getsignal(signal.SIGINT)
    yield gc
    gc.unfreeze()
    gc.enable()
    signal.signal(signal.SIGINT, handler)


def test_main_pauses_the_collector_on_meta_and_a_real_device_resumes_it(collector, monkeypatch, capsys):
    from fpnscope.cli import main

    for device, collecting in (("meta", False), ("cpu", True)):
        monkeypatch.setattr("sys.argv", ["fpnscope", "inspect", "synthetic_fpn", "--json", "--device", device, *SMALL])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0
        assert parse_json(capsys.readouterr().out)["device"]["used"] == device
        assert collector.isenabled() is collecting
    assert collector.get_freeze_count() > 0  # what was loaded before the real run is not rescanned


@pytest.mark.parametrize("args", [["presets", "list"], ["inspect", "synthetic_fpn", *SMALL]])
def test_a_reader_that_goes_away_ends_the_run_quietly_with_141(args):
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # as `| head` does once it has its lines: every write now fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "fpnscope", *args], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=300)
    finally:
        os.close(write)
    assert done.returncode == 141, done.stderr  # not 1, which means "findings"
    assert done.stderr == ""


def test_error_advice_fits_the_command(cli):
    shown = cli("presets", "show", "resnet50_fpm")
    assert shown.exit_code == 2 and "did you mean 'resnet50_fpn'" in shown.stderr
    assert ".yaml" not in shown.stderr  # presets show takes names only
    if not torch.cuda.is_available():
        profiled = cli("profile", "synthetic_fpn", "--device", "cuda")
        assert profiled.exit_code == 2 and "use --device cpu (or auto)" in profiled.stderr
        inspected = cli("inspect", "synthetic_fpn", "--device", "cuda")
        assert inspected.exit_code == 2 and "use --device meta or cpu" in inspected.stderr


def test_profile_table_on_the_cpu_says_what_it_measured(cli):
    result = cli("profile", "synthetic_fpn", "--device", "cpu", "--input", "64", "--iters", "2", "--warmup", "0")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Peak (est.)" in out and "Peak meas." not in out  # nothing is measured off CUDA
    backbone = next(line.split() for line in out.splitlines() if line.split()[:1] == ["backbone"] and "±" in line)
    assert backbone[-4:-2] == ["0", "—"]  # no FLOPs, so no TFLOP/s
    assert "Parameters and buffers" in out


def test_markdown_of_inspect_is_the_whole_report_rounded_for_people(cli):
    result = cli("inspect", "resnet50_fpn", "--depth", "1", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for heading in ("### Levels", "### Run", "### Cost", "### Diagnostics", "### Corrected YAML", "### Modules"):
        assert heading in out, heading
    assert "| 1×3×800×1333 | meta |" in out and "| total | 26,852,416 |" in out
    assert "input: {height: 800, width: 1344}" in out


def test_a_bad_override_is_blamed_on_the_option_that_set_it(cli):
    bad_set = cli("inspect", "synthetic_fpn", "--set", "neck.out_channels=abc")
    assert bad_set.exit_code == 2
    assert bad_set.stderr.strip().endswith("(from --set neck.out_channels=abc)")
    bad_variant = cli("compare", "synthetic_fpn", "--variant", "x: foo=1")
    assert bad_variant.exit_code == 2
    assert bad_variant.stderr.strip().endswith("(from --variant 'x': neck.foo=1)")
