"""``profile``: the CPU path end to end, consistent statistics, sweeps with OOM points, state left
as found; the CUDA paths run only where there is a GPU."""

from __future__ import annotations

import math

import pytest
import torch

from fpnscope.analysis.profile.run import profile_model
from fpnscope.reports.profile import ProfileSettings, TimingStats
from tests.conftest import parse_json
from tests.helpers import load_config

FAST = ("--iters", "3", "--warmup", "1")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def check_stage(stage: dict, batch: int) -> None:
    assert stage["iters"] == 3
    assert 0 < stage["p10_ms"] <= stage["median_ms"] <= stage["p90_ms"]
    assert stage["std_ms"] >= 0 and stage["mean_ms"] > 0
    assert math.isclose(stage["throughput_ips"], batch / (stage["median_ms"] / 1000), rel_tol=1e-9)
    if stage["flops"]:
        assert math.isclose(stage["tflops"], stage["flops"] / (stage["median_ms"] / 1000) / 1e12, rel_tol=1e-9)


def test_profile_cpu_json(cli):
    result = cli("profile", "retinanet_r50_fpn", "--device", "cpu", "--input", "128", "--batch", "2", "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    assert data["device"]["used"] == "cpu" and data["settings"]["mode"] == "infer"
    (point,) = data["points"]
    assert (point["batch"], point["height"], point["width"], point["status"]) == (2, 128, 128, "ok")
    names = list(point["stages"])
    assert names == ["model", "backbone", "neck", "head", "head P3", "head P4", "head P5", "head P6", "head P7"]
    for stage in point["stages"].values():
        check_stage(stage, 2)
        assert stage["measured_peak_bytes"] is None  # only CUDA measures its peak
        assert stage["estimated_peak_bytes"] > 0
    # the counted work of the stages adds up to the whole model, and matches inspect's count
    stages = point["stages"]
    assert stages["model"]["flops"] == stages["backbone"]["flops"] + stages["neck"]["flops"] + stages["head"]["flops"]
    inspected = parse_json(cli("inspect", "retinanet_r50_fpn", "--input", "128", "--batch", "2", "--json").stdout)
    assert stages["model"]["flops"] == inspected["flops"]["total"]
    assert sum(stages[f"head P{i}"]["flops"] for i in range(3, 8)) == stages["head"]["flops"]


def test_train_mode_counts_forward_and_backward():
    loaded = load_config("synthetic_fpn")
    infer = profile_model(loaded, "cpu", ProfileSettings(iters=2, warmup=1), [(64, 64)], [1])
    train = profile_model(loaded, "cpu", ProfileSettings(iters=2, warmup=1, mode="train"), [(64, 64)], [1])
    # every conv in an FPN whose inputs take gradients: forward, grad-input and grad-weight, 3x
    assert train.points[0].stages["neck"].flops == 3 * infer.points[0].stages["neck"].flops
    # autograd keeps activations for the backward: the estimate grows
    assert train.points[0].stages["neck"].estimated_peak_bytes > infer.points[0].stages["neck"].estimated_peak_bytes


def test_sweep_records_oom_and_goes_on(cli):
    # 60000x60000 needs terabytes by the meta estimate: refused before any allocation
    result = cli("profile", "synthetic_fpn", "--device", "cpu", "--input", "64,60000", "--batch", "1,2", "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    points = parse_json(result.stdout)["points"]
    assert [(p["height"], p["batch"], p["status"]) for p in points] == [
        (64, 1, "ok"), (64, 2, "ok"), (60000, 1, "oom"), (60000, 2, "oom"),
    ]
    assert "estimated" in points[-1]["message"] and "not run" in points[-1]["message"]
    assert points[-1]["stages"] == {}


def test_human_output_single_point_and_sweep(cli):
    single = cli("profile", "synthetic_fpn", "--device", "cpu", "--input", "64", *FAST)
    assert single.exit_code == 0, single.stderr
    for text in ("Latency per stage", "Median ms", "p10–p90 ms", "img/s", "TFLOP/s", "neck", "Parameters and buffers"):
        assert text in single.stdout, text
    sweep = cli("profile", "synthetic_fpn", "--device", "cpu", "--input", "64,96", "--batch", "1,2", *FAST)
    assert sweep.exit_code == 0, sweep.stderr
    assert "Sweep" in sweep.stdout and sweep.stdout.count("64×64") == 2 and sweep.stdout.count("96×96") == 2


def test_state_is_left_as_found():
    threads, benchmark, grad = torch.get_num_threads(), torch.backends.cudnn.benchmark, torch.is_grad_enabled()
    profile_model(load_config("synthetic_fpn"), "cpu", ProfileSettings(iters=1, warmup=0, mode="train"), [(64, 64)], [1])
    assert (torch.get_num_threads(), torch.backends.cudnn.benchmark, torch.is_grad_enabled()) == (threads, benchmark, grad)


def test_bf16_autocast_and_channels_last_on_cpu(cli):
    result = cli("profile", "resnet18_fpn_c3c5_128", "--device", "cpu", "--input", "64", "--dtype", "bf16",
                 "--channels-last", "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    assert data["settings"]["dtype"] == "bf16" and data["settings"]["channels_last"] is True
    check_stage(data["points"][0]["stages"]["model"], 1)


def _compile_unavailable() -> str | None:
    """Why torch.compile cannot run here (no dynamo for this Python, no C compiler), or None."""
    try:
        import torch._dynamo

        if not torch._dynamo.is_dynamo_supported():
            return "torch.compile is not supported on this Python"
        torch.compile(lambda x: x * 2 + 1)(torch.ones(2))
    except Exception as err:
        return f"torch.compile is not available here: {type(err).__name__}: {err}"
    return None


def test_compile_time_is_reported_apart(cli):
    if (why := _compile_unavailable()) is not None:
        pytest.skip(why)
    import torch._dynamo as dynamo
    from torch._dynamo.utils import counters

    tiny = ("synthetic_fpn", "--device", "cpu", "--input", "64", "--json",
            "--set", "backbone={kind: synthetic, channels: [8], strides: [8]}", "--set", "neck.out_channels=8", *FAST)
    dynamo.reset()
    counters.clear()
    result = cli("profile", *tiny, "--compile")
    assert result.exit_code == 0, result.stderr
    data = parse_json(result.stdout)
    assert data["settings"]["compile"] is True
    point = data["points"][0]
    # dynamo really captured graphs (a plain eager module in place of torch.compile captures none)
    assert counters["stats"]["unique_graphs"] > 0
    assert isinstance(point["compile_seconds"], float) and point["compile_seconds"] > 0
    check_stage(point["stages"]["model"], 1)
    # without --compile: nothing compiled, and no compile time reported (not even 0.0)
    dynamo.reset()
    counters.clear()
    plain = cli("profile", *tiny)
    assert plain.exit_code == 0, plain.stderr
    data = parse_json(plain.stdout)
    assert data["settings"]["compile"] is False
    assert data["points"][0]["compile_seconds"] is None
    assert counters["stats"]["unique_graphs"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--device", "meta"), "profile times real computation"),
        (("--device", "cpu", "--dtype", "fp16"), "autocast on the CPU runs bf16"),
        (("--device", "cpu", "--dtype", "int8"), "use fp32, fp16 or bf16"),
        (("--device", "cpu", "--mode", "eval"), "use infer or train"),
        (("--device", "cpu", "--cuda-graphs"), "CUDA graphs need a CUDA device"),
        (("--batch", "1,,8"), "comma-separated"),
        (("--batch", "0"), "--batch 0: must be a positive integer"),
        (("--input", "64,abc"), "--input 'abc': expected HxW"),
    ],
)
def test_bad_profile_options(cli, args, message):
    result = cli("profile", "synthetic_fpn", *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_timing_statistics():
    stats = TimingStats.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (stats.median_ms, stats.p10_ms, stats.p90_ms, stats.mean_ms) == (3.0, 1.4, 4.6, 3.0)
    assert math.isclose(stats.std_ms, math.sqrt(2.0))


@cuda
def test_profile_cuda_measures_memory_beside_the_estimate(cli):
    result = cli("profile", "resnet50_fpn", "--device", "cuda", "--input", "512", "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    model = parse_json(result.stdout)["points"][0]["stages"]["model"]
    check_stage(model, 1)
    assert model["measured_peak_bytes"] > 0 and model["estimated_peak_bytes"] > 0
    # the estimate follows the same tensors the allocator sees: within a factor of two
    assert 0.5 < model["estimated_peak_bytes"] / model["measured_peak_bytes"] < 2.0


@cuda
@pytest.mark.parametrize("extra", [("--dtype", "fp16"), ("--cuda-graphs",), ("--mode", "train", "--channels-last")])
def test_profile_cuda_options(cli, extra):
    result = cli("profile", "retinanet_r50_fpn", "--device", "cuda", "--input", "256", "--json", *FAST, *extra)
    assert result.exit_code == 0, result.stderr
    for stage in parse_json(result.stdout)["points"][0]["stages"].values():
        check_stage(stage, 1)
