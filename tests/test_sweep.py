"""sweep: the grid and its points, the Pareto front, constraints and exit codes, the formats, the
library object, memory that stays flat, Ctrl-C keeping the finished points, and the charts."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import re
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import fpnscope as fs
from fpnscope.reports.budget import LOWER_IS_BETTER
from fpnscope.reports.sweep import SweepReport
from tests.conftest import parse_json

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("--input", "64")
GRID = ("--grid", "neck.kind=fpn,bifpn", "--grid", "out_channels=64,128")


def brute_front(points: list[dict], metrics: tuple[str, str]) -> list[int]:
    """The Pareto front by its definition, from the JSON alone."""
    key = {"params": "params", "macs": "macs", "memory": "memory_bytes", "latency": "latency_ms",
           "throughput": "throughput_ips"}
    sign = {m: 1 if LOWER_IS_BETTER[m] else -1 for m in metrics}
    ok = [p for p in points if p["status"] == "ok" and not p["errors"]]

    def score(p: dict) -> tuple[float, ...]:
        return tuple(sign[m] * p[key[m]] for m in metrics)

    return [p["index"] for p in ok
            if not any(all(a <= b for a, b in zip(score(q), score(p))) and score(q) != score(p) for q in ok)]


def test_a_small_grid_through_the_cli(cli):
    result = cli("sweep", "synthetic_fpn", *GRID, "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress bar off a terminal
    data = parse_json(result.stdout)
    assert data["tool"]["command"] == "sweep" and data["planned"] == 4 and data["interrupted"] is False
    points = data["points"]
    assert [p["index"] for p in points] == [0, 1, 2, 3]
    assert [(p["values"]["neck.kind"], p["values"]["neck.out_channels"]) for p in points] == [
        ("fpn", 64), ("fpn", 128), ("bifpn", 64), ("bifpn", 128)]
    assert all(p["status"] == "ok" and p["input"] == [1, 3, 64, 64] for p in points)
    # out_channels is a BiFPN's width: the same axis means the same channels on every kind
    assert {lvl.split(":")[1] for lvl in points[2]["levels"]} == {"64"}
    assert {lvl.split(":")[1] for lvl in points[3]["levels"]} == {"128"}
    assert points[2]["levels"] == ["P2:64", "P3:64", "P4:64", "P5:64", "P6:64", "P7:64"]  # BiFPN's extra levels
    assert len({p["params"] for p in points}) == 4 and all(p["flops"] == 2 * p["macs"] for p in points)
    assert data["front"] == brute_front(points, ("macs", "params")) and data["front"]
    # the best on MACs, with no constraint, is the cheapest point
    assert data["best"] == min(points, key=lambda p: p["macs"])["index"]
    assert data["satisfying"] == [0, 1, 2, 3]


def test_the_same_figures_as_inspect_and_the_backbone_built_once(monkeypatch):
    from fpnscope.analysis.measure import backbone

    built = []
    real = backbone.build_backbone
    monkeypatch.setattr(backbone, "build_backbone", lambda *args: built.append(args[0].kind) or real(*args))
    report = fs.sweep("resnet18_fpn_c3c5_128", grid={"neck.kind": ["fpn", "pafpn", "bifpn"]}, inputs=[256, "256x384"])
    assert built == ["torchvision", "torchvision"]  # once per input, whatever the neck
    assert all(p.warnings == 0 for p in report.points)  # (no finding whose proposed input is checked on another)
    assert [p.values for p in report.points[:4]] == [
        {"input": "256x256", "neck.kind": "fpn"}, {"input": "256x256", "neck.kind": "pafpn"},
        {"input": "256x256", "neck.kind": "bifpn"}, {"input": "256x384", "neck.kind": "fpn"}]
    alone = fs.inspect("resnet18_fpn_c3c5_128", input="256x384", set={"neck.kind": "fpn"})
    point = report.points[3]
    assert (point.params, point.macs, point.input) == (alone.params.total, alone.macs.total, (1, 3, 256, 384))
    assert point.memory_bytes == alone.memory.total_bytes


def test_lists_as_values_and_the_table_in_100_columns(cli):
    result = cli("sweep", "resnet18_fpn_c3c5_128", "--grid", "neck.kind=fpn,bifpn", "--grid",
                 "in_features=[C3, C4, C5],[C4,C5]", *SMALL)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 100
    for text in ("resnet18_fpn_c3c5_128: 4 points", "in_features", "C3–C5", "C4–C5", "Pareto front", "★",
                 "Params against MACs", "MACs →", "↑ Params", "MACs by point", "#3 bifpn C4–C5"):
        assert text in out, text
    first = next(line for line in out.splitlines() if "P3–P5 ×128" in line)
    assert " M " in first and " MiB " in first  # every figure with its unit


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("timed", [False, True])
def test_no_figure_is_cut_when_the_room_is_short(width, timed):
    report = fs.sweep("synthetic_fpn", grid={"neck.kind": ["fpn", "bifpn"], "out_channels": [64, 128],
                                             "in_features": [["C2", "C3", "C4", "C5"], ["C3", "C4", "C5"]]}, inputs=64)
    if timed:  # the figures a profiled sweep has (timing them here would only make the test slow)
        report.profiled = True
        for p in report.points:
            p.latency_ms, p.throughput_ips = 100.0 + 10 * p.index, 1000.0 / (100.0 + 10 * p.index)
    text = report.to_text(width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text  # rich cuts a cell that does not fit with an ellipsis
    rows = [line for line in lines if re.match(r"\s*[★●]*\s*\d+\s+(fpn|bifpn)\s", line)]  # the table's rows
    assert len(rows) == 8
    unit = " ms " if timed else " MiB " if width == 100 else " ×"  # the latency, the memory, or the levels' width
    assert all(line.count(unit) == 1 for line in rows), rows
    said = " ".join(text.split())
    if width == 80:  # what was left out for width says so
        assert f"Left out for width: memory{', levels, images/s' if timed else ''} (--format csv or --json has every column)" in said
    else:
        assert ("img/s" if timed else "Memory") in text and "P3–P5 ×64" in text


def test_constraints_pick_the_best_and_exit_1_when_nothing_keeps_them(cli):
    every = parse_json(cli("sweep", "synthetic_fpn", *GRID, "--json", *SMALL).stdout)["points"]
    limit = sorted(p["params"] for p in every)[2]  # two points keep params < the third smallest
    keep = sorted(p["index"] for p in every if p["params"] < limit)
    result = cli("sweep", "synthetic_fpn", *GRID, "--where", f"params<{limit / 1e3}K", "--metric", "memory", "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    assert data["satisfying"] == keep and len(keep) == 2
    assert data["best"] == min((p for p in every if p["index"] in keep), key=lambda p: p["memory_bytes"])["index"]
    assert len(data["points"]) == 4  # the JSON keeps every point
    table = cli("sweep", "synthetic_fpn", *GRID, "--where", f"params<{limit / 1e3}K", *SMALL)
    assert f"2 of 4 points keep params<{limit / 1e3}K; the 2 others are in --format csv and --json" in table.stdout
    assert "★ best MACs: #" in table.stdout
    none = cli("sweep", "synthetic_fpn", *GRID, "--where", "params<1K", "--where", "macs<1G", *SMALL)
    assert none.exit_code == 1
    assert "no point keeps params<1K, macs<1G" in none.stderr
    assert "0 of 4 points keep" in none.stdout  # the report is still printed
    assert parse_json(cli("sweep", "synthetic_fpn", *GRID, "--where", "params<1K", "--json", *SMALL).stdout)["best"] is None


def test_failing_points_and_error_findings_are_rows_and_exit_1(cli):
    result = cli("sweep", "synthetic_fpn", "--grid", "out_channels=64,-1", "--grid",
                 "in_channels=auto,[256, 512, 1000, 2048]", "--json", *SMALL)
    assert result.exit_code == 1
    points = parse_json(result.stdout)["points"]
    assert [p["status"] for p in points] == ["ok", "ok", "error", "error"]
    assert "greater than 0" in points[2]["reason"] and "out_channels=-1" in points[2]["reason"]
    assert points[1]["errors"] == 1 and points[1]["reason"].startswith("channel-mismatch: neck.in_channels[2]")
    assert points[0]["errors"] == 0 and points[0]["reason"] is None
    assert "3 of 4 points could not be measured or have error findings: #1, #2, #3" in result.stderr
    front = parse_json(result.stdout)["front"]
    assert front == [0]  # only a clean, measured point is a candidate
    table = cli("sweep", "synthetic_fpn", "--grid", "out_channels=64,-1", *SMALL)
    assert table.exit_code == 1 and "error" in table.stdout
    assert "Input should be greater than 0" in " ".join(table.stdout.split())  # in its row, wrapped
    assert "2.23 MiB" in table.stdout and "P2–P5 ×64" in table.stdout  # a long reason takes no column away


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grid", "out_chanels=64,128"), "did you mean 'out_channels'?"),  # no point loads: the grid is wrong
        (("--grid", "neck.kind=fpn,bifpm"), "--grid 'bifpm': no such neck kind; did you mean 'bifpn'?"),
        (("--grid", "out_channels=64,,128"), "--grid 'out_channels=64,,128': give comma-separated values"),
        (("--grid", "out_channels"), "expected KEY=V1,V2,..."),
        (("--grid", "out_channels=64,64"), "a value is given twice"),
        (("--grid", "out_channels=64", "--pareto", "macs"), "--pareto 'macs': give two different metrics"),
        (("--grid", "out_channels=64", "--where", "params<5%"), "a sweep has no baseline"),
        (("--grid", "out_channels=64", "--where", "latency<20ms"), "latency is measured only with --profile"),
        (("--grid", "out_channels=64", "--where", "params<2GiB"), "GiB is a unit of memory, not params"),
        (("--grid", "out_channels=64", "--set", "neck.out_channels=32"), "is both in --set and in --grid"),
        (("--grid", "out_channels=64", "--plot", "chart.jpg"), "--plot chart.jpg: give a file ending in .svg, .png"),
    ],
)
def test_bad_input_exits_2_with_one_message(cli, args, message):
    result = cli("sweep", "synthetic_fpn", *args, *SMALL)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_csv_and_markdown(cli):
    result = cli("sweep", "synthetic_fpn", *GRID, "--grid", "in_features=[C3, C4, C5],[C4, C5]", "--format", "csv",
                 "--sort", "params", *SMALL)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 8
    params = [int(r["params"]) for r in rows]
    assert params == sorted(params)  # --sort orders the rows, cheapest first
    assert {json.dumps(json.loads(r["neck.in_features"])) for r in rows} == {'["C3", "C4", "C5"]', '["C4", "C5"]'}
    assert sum(r["front"] == "True" for r in rows) >= 1 and sum(r["best"] == "True" for r in rows) == 1
    assert all(int(r["flops"]) == 2 * int(r["macs"]) and r["status"] == "ok" for r in rows)
    markdown = cli("sweep", "synthetic_fpn", *GRID, "--format", "markdown", *SMALL)
    assert "### Points (★ best, ● Pareto front)" in markdown.stdout and "| kind | out_channels |" in markdown.stdout


def test_the_library_object():
    seen: list[tuple[int, int]] = []
    report = fs.sweep("synthetic_fpn", grid={"neck.kind": ["fpn", "pafpn", "bifpn"], "out_channels": [64, 128]},
                      inputs=64, where=["params<1M"], pareto="macs,memory", sort="memory",
                      on_progress=lambda done, total, label: seen.append((done, total)))
    assert isinstance(report, SweepReport)
    assert seen == [(i, 6) for i in range(7)]  # before each point, then done
    assert [p.index for p in report.points] == list(range(6))  # sorting orders what is shown, not the points
    data = report.to_dict()
    assert report.front == brute_front(data["points"], ("macs", "memory"))
    assert report.satisfying == [p.index for p in report.points if p.params is not None and p.params < 1e6]
    best = min((report.points[i] for i in report.satisfying), key=lambda p: p.macs or 0)
    assert report.best == best.index and report.metric == "macs"  # the first pareto metric by default
    assert [p.memory_bytes for p in report.ordered()] == sorted(p.memory_bytes or 0 for p in report.points)
    frame = report.to_dataframe()
    assert list(frame.index) == [p.index for p in report.ordered()]  # the rows as shown, each under its number
    assert set(frame.index) == set(range(6)) and frame.loc[report.best, "best"]
    assert frame["params"].sum() == sum(p.params or 0 for p in report.points)
    html = report._repr_html_()
    assert "<svg" in html and "Pareto front" in html and "params&lt;1M" in html
    assert "Memory against MACs" in report.to_text()


def test_memory_stays_flat_and_no_model_outlives_its_point():
    from torch import nn

    def modules() -> int:
        gc.collect()
        return sum(isinstance(o, nn.Module) for o in gc.get_objects())

    before = modules()  # whatever other tests left alive
    counts: dict[int, int] = {}

    def census(done: int, total: int, label: str) -> None:
        if done in (8, 12):
            counts[done] = modules() - before

    grid = {"neck.kind": ["fpn", "bifpn"], "out_channels": [32, 48, 64, 96, 128, 160]}
    fs.sweep("synthetic_fpn", grid=grid, inputs=64, on_progress=census)
    # only the backbone cache holds modules between points (the synthetic backbone, and the one
    # that checked the input the BiFPN points' level-too-small finding proposes), never a neck
    assert counts[8] == counts[12] <= 4
    assert modules() == before  # nothing kept after the call


def test_profile_times_every_point_and_records_the_ones_that_do_not_fit(cli):
    result = cli("sweep", "synthetic_fpn", "--grid", "out_channels=16,32", "--input", "64,60000", "--profile",
                 "--device", "cpu", "--pareto", "latency,params", "--json")
    assert result.exit_code == 0, result.stderr  # an oom point is a result, not a failure
    data = parse_json(result.stdout)
    assert data["profiled"] is True and data["device"] == "cpu"
    small, big = data["points"][:2], data["points"][2:]
    assert all(p["status"] == "ok" and p["latency_ms"] > 0 and p["throughput_ips"] > 0 for p in small)
    assert all(p["status"] == "oom" and "not run" in p["reason"] and p["latency_ms"] is None for p in big)
    assert set(data["front"]) <= {0, 1} and data["front"] == brute_front(data["points"], ("latency", "params"))


# A backbone that says when its forward starts and then runs until interrupted, when asked to hang:
# the first points finish, the last is certainly in progress when the signal comes.
BACKBONE = textwrap.dedent(
    """
    import time
    from pathlib import Path

    from torch import nn


    class Sleepy(nn.Module):
        def __init__(self, marker, hang, safety=120.0):
            super().__init__()
            self.marker, self.hang, self.safety = Path(marker), hang, safety
            self.conv = nn.Conv2d(3, 8, 3, stride=4, padding=1)

        def forward(self, x):
            if self.hang:
                self.marker.write_text("started")
                deadline = time.monotonic() + self.safety
                while time.monotonic() < deadline:
                    time.sleep(0.05)
            return [self.conv(x)]
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_ctrl_c_keeps_and_prints_the_points_measured(tmp_path, fmt):
    marker = tmp_path / "started"
    (tmp_path / "sleepy.py").write_text(BACKBONE)
    doc = {"backbone": {"kind": "python", "target": "sleepy:Sleepy", "kwargs": {"marker": str(marker), "hang": False}},
           "neck": {"kind": "fpn", "out_channels": 8}, "input": {"height": 64, "width": 64}}
    config = tmp_path / "sleepy.yaml"
    config.write_text(json.dumps(doc))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fpnscope", "sweep", str(config), "--allow-python", "--format", fmt,
         "--grid", "backbone.kwargs.hang=false,true", "--grid", "out_channels=8,16"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not marker.exists():
            out, err = proc.communicate(timeout=10) if proc.poll() is not None else ("", "")
            pytest.fail(f"the third point never started (exit {proc.poll()}): {err}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted: 2 of 4 points measured" in err and "Traceback" not in err
    if fmt == "json":
        data = json.loads(out)
        assert data["interrupted"] is True and data["planned"] == 4
        assert [(p["values"]["backbone.kwargs.hang"], p["values"]["neck.out_channels"], p["status"])
                for p in data["points"]] == [(False, 8, "ok"), (False, 16, "ok")]
    else:
        assert "2 points of 4 (interrupted)" in out and "interrupted: 2 of 4 points measured" in out


def test_plot_files_are_real_svg_and_png(cli, tmp_path):
    svg, png = tmp_path / "front.svg", tmp_path / "front.png"
    result = cli("sweep", "synthetic_fpn", *GRID, "--plot", str(svg), "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    assert f"wrote {svg}" in result.stderr
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg.read_text()
    front = parse_json(result.stdout)["front"]
    for index in front:  # every point of the front is labelled (matplotlib keeps a label's text beside its path)
        assert f"#{index} " in text
    assert "Pareto front" in text
    assert cli("sweep", "synthetic_fpn", *GRID, "--plot", str(png), *SMALL).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    height, width, _ = imread(png).shape
    assert width > 600 and height > 400


def test_the_sweep_figure_draws_the_front():
    report = fs.sweep("synthetic_fpn", grid={"neck.kind": ["fpn", "bifpn"], "out_channels": [64, 128]}, inputs=64)
    figure = report.plot()
    (ax,) = figure.axes
    (line,) = ax.get_lines()  # the front, joined
    front = sorted((report.points[i] for i in report.front), key=lambda p: p.macs or 0)
    assert list(line.get_xdata()) == [p.macs for p in front] and list(line.get_ydata()) == [p.params for p in front]
    assert ax.get_xlabel().startswith("MACs") and ax.get_ylabel() == "Params"
    labels = {t.get_text() for t in ax.texts}
    assert all(any(label.startswith(f"#{i} ") for label in labels) for i in report.front)


def test_compare_plots_macs_per_level_as_grouped_bars(cli, tmp_path):
    report = fs.compare(["synthetic_fpn"], necks=["fpn", "pafpn", "bifpn"], input=128)
    figure = report.plot()
    (ax,) = figure.axes
    groups = ax.containers
    assert len(groups) == 3  # one set of bars per variant
    strides = sorted(s for s in report.variants[0].level_macs if s)
    assert [bar.get_height() for bar in groups[0]][:len(strides)] == [report.variants[0].level_macs[s] for s in strides]
    out = tmp_path / "levels.png"
    result = cli("compare", "synthetic_fpn", "--neck", "fpn,bifpn", "--input", "128", "--plot", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG" and f"wrote {out}" in result.stderr


def test_without_the_extras_the_message_names_them(cli, tmp_path, monkeypatch):
    report = fs.sweep("synthetic_fpn", grid={"out_channels": [64, 128]}, inputs=64)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "pandas", None)
    result = cli("sweep", "synthetic_fpn", "--grid", "out_channels=64,128", "--plot", str(tmp_path / "x.svg"), *SMALL)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --plot needs matplotlib, which is not installed: pip install 'fpnscope[plot]'"
    assert result.stdout == "" and not (tmp_path / "x.svg").exists()  # refused before the sweep, not after it
    compare = cli("compare", "synthetic_fpn", "--neck", "fpn,bifpn", "--plot", str(tmp_path / "y.png"))
    assert compare.exit_code == 2 and "pip install 'fpnscope[plot]'" in compare.stderr
    with pytest.raises(fs.ConfigError, match=r"plot needs matplotlib.*fpnscope\[plot\]"):
        report.plot()
    with pytest.raises(fs.ConfigError, match=r"to_dataframe\(\) needs pandas.*fpnscope\[frames\]"):
        report.to_dataframe()
    html = report._repr_html_()  # the notebook view goes on with its text chart
    assert "<svg" not in html and "Params against MACs" in html


def test_grid_order_puts_input_and_backbone_axes_first():
    report = fs.sweep("synthetic_fpn", grid={"out_channels": [16, 32], "backbone.channels": [[8, 16, 32, 64]]},
                      inputs=["64", "32x48"])
    assert [a.key for a in report.axes] == ["input", "backbone.channels", "neck.out_channels"]
    expected = list(itertools.product(["64x64", "32x48"], [[8, 16, 32, 64]], [16, 32]))
    assert [tuple(p.values.values()) for p in report.points] == expected
    assert [p.input for p in report.points] == [(1, 3, 64, 64)] * 2 + [(1, 3, 32, 48)] * 2


def test_a_point_whose_forward_raised_is_an_error_row_without_partial_figures(cli, monkeypatch):
    corpus = Path(__file__).parent / "usercode"
    monkeypatch.syspath_prepend(str(corpus))
    monkeypatch.delitem(sys.modules, "pooled_pan", raising=False)
    result = cli("sweep", str(corpus / "pooled_pan.yaml"), "--allow-python", "--input", "800x1333,800x1344",
                 "--grid", "neck.kwargs.out_channels=16,32", "--json")
    assert result.exit_code == 1  # points failed
    points = parse_json(result.stdout)["points"]
    crashed = [p for p in points if p["input"][2:] == [800, 1333]]
    # the counts stop at the crash: comparing them with whole models would mislead, so there are none
    assert [(p["status"], p["params"], p["macs"]) for p in crashed] == [("error", None, None)] * 2
    assert all(p["reason"] == "forward-error: add fails in neck (pooled_pan.py:21)" for p in crashed)
    assert [p["status"] for p in points if p["input"][2:] == [800, 1344]] == ["ok", "ok"]
