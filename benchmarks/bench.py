"""fpnscope against its floor and its peers, on this machine, in one run.

    python benchmarks/bench.py                     # everything (about 30 minutes on 2 cores)
    python benchmarks/bench.py --only startup,peers --runs 3

Every figure is the median wall time of several runs of a fresh process, with the process's peak
resident memory; ratios are computed within the run, so machines compare by ratio, not by time.

Sections:
  startup  `fpnscope --help` and `presets list` against `python -c "import typer, rich"`, and
           `presets list` against a one-option typer command
  presets  `fpnscope inspect PRESET --json` against importing what the preset's backbone needs
  peers    fpnscope against torchinfo.summary + fvcore FlopCountAnalysis on ResNet-50 + FPN
  compare  `compare resnet50_fpn --neck fpn,pafpn,bifpn` against one `inspect`

Targets: startup within 1.5x of importing typer and rich (and under 0.5 s); inspect within 1.3x of
its import floor; 2.5x faster than the peers at 800x1333 and 4.5x at 1536x1536 with less memory;
at 2048x2048 batch 8, where the peers run out of memory, about the time of 800x1333; compare
about one inspect plus a small increment per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FPNSCOPE = [PYTHON, "-m", "fpnscope"]
PEER_MEMORY_CAP = 16 * 2**30  # a peer run is killed above this, and recorded as out of memory

PEER_CODE = """
import sys, torch, torchinfo
from fvcore.nn import FlopCountAnalysis
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
h, w, b = (int(v) for v in sys.argv[1:4])
model = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=5,
                            norm_layer=torch.nn.BatchNorm2d).eval()
x = torch.randn(b, 3, h, w)
with torch.no_grad():
    summary = torchinfo.summary(model, input_data=[x], depth=3, verbose=0)
    flops = FlopCountAnalysis(model, x)
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    total = flops.total()
print(summary.total_params, total)
"""


@dataclass
class Sample:
    """Median seconds and peak RSS bytes of a command, or why it failed."""

    label: str
    seconds: float | None
    peak_bytes: int | None
    runs: int
    failure: str | None = None


def run_once(cmd: list[str], cap: int | None = None) -> tuple[float, int, str | None]:
    """Wall time and peak RSS of one fresh process (killed above ``cap`` bytes of RSS)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed = threading.Event()

    def watch() -> None:
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as status:
                    rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))
            except (OSError, StopIteration):
                return
            if cap is not None and rss > cap:
                killed.set()
                proc.kill()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    peak = usage.ru_maxrss * 1024
    if killed.is_set():
        return elapsed, peak, f"out of memory (killed above {cap / 2**30:.0f} GiB)"
    if proc.returncode not in (0, 1):  # inspect exits 1 on findings: still a finished analysis
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        return elapsed, peak, "out of memory" if "memory" in last.lower() else last
    return elapsed, peak, None


def measure(label: str, cmd: list[str], runs: int, cap: int | None = None) -> Sample:
    times, peaks = [], []
    for _ in range(runs):
        seconds, peak, failure = run_once(cmd, cap)
        if failure:
            return Sample(label, None, peak, len(times) + 1, failure)
        times.append(seconds)
        peaks.append(peak)
    return Sample(label, statistics.median(times), max(peaks), runs)


def measure_pair(
    a: tuple[str, list[str]], b: tuple[str, list[str]], runs: int, cap: int | None = None
) -> tuple[Sample, Sample, float | None]:
    """Run two commands alternately (a, b, a, b...), so drift in the machine's speed hits both
    alike; returns both medians and the median of the per-pair ratios b / a."""
    times: dict[int, list[float]] = {0: [], 1: []}
    peaks: dict[int, list[int]] = {0: [], 1: []}
    for _ in range(runs):
        for i, (_, cmd) in enumerate((a, b)):
            seconds, peak, failure = run_once(cmd, cap)
            if failure:
                failed = Sample((a, b)[i][0], None, peak, runs, failure)
                other = Sample((a, b)[1 - i][0], None, None, runs, "not run")
                return (failed, other, None) if i == 0 else (other, failed, None)
            times[i].append(seconds)
            peaks[i].append(peak)
    samples = [Sample(label, statistics.median(times[i]), max(peaks[i]), runs) for i, (label, _) in enumerate((a, b))]
    pair_ratio = statistics.median(tb / ta for ta, tb in zip(times[0], times[1]))
    return samples[0], samples[1], pair_ratio


def ratio(a: Sample, b: Sample) -> str:
    if a.seconds is None or b.seconds is None:
        return "—"
    return f"{a.seconds / b.seconds:.2f}x"


def show(sample: Sample) -> str:
    if sample.seconds is None:
        return f"{sample.label:<58} {sample.failure}"
    return f"{sample.label:<58} {sample.seconds:7.2f} s {sample.peak_bytes / 2**20:8.0f} MiB"


# Typer 0.29 coerces every non-flag option through a pydantic TypeAdapter, importing pydantic on
# the first one: the least any typer command with such an option costs.
TYPER_OPTION_FLOOR = """
import typer
app = typer.Typer()
@app.command()
def main(fmt: str = "table") -> None:
    pass
app()
"""


def section_startup(runs: int) -> list[dict]:
    rows = []
    for args in (["--help"], ["presets", "list"]):
        floor, sample, pair = measure_pair(
            ("python -c 'import typer, rich'", [PYTHON, "-c", "import typer, rich"]),
            ("fpnscope " + " ".join(args), [*FPNSCOPE, *args]),
            runs,
        )
        print(show(floor))
        print(show(sample), f"  {pair:.2f}x of the floor (target ≤ 1.5x, < 0.5 s)" if pair else "")
        row = asdict(sample) | {"floor_seconds": floor.seconds, "ratio": pair}
        if args != ["--help"]:
            typer_floor, _, typer_pair = measure_pair(
                ("a one-option typer command", [PYTHON, "-c", TYPER_OPTION_FLOOR]),
                ("fpnscope " + " ".join(args), [*FPNSCOPE, *args]),
                runs,
            )
            print(show(typer_floor))
            print(f"{'':58}   fpnscope {' '.join(args)}: {typer_pair:.2f}x of it" if typer_pair else "")
            row |= {"typer_floor_seconds": typer_floor.seconds, "typer_ratio": typer_pair}
        rows.append(row)
    return rows


def floor_imports(backbone_kind: str) -> str:
    """What a preset's backbone needs imported, as ``python -c`` code."""
    return {"timm": "import torch, timm", "torchvision": "import torch, torchvision"}.get(backbone_kind, "import torch")


# torch's Python meta kernels import torch._dynamo on their first call; torchvision's import pays
# that already, a bare `import torch` does not, so the weightless presets get it added to their floor
FIRST_META_OP = "; torch.empty(1, device='meta') + 1"


def section_presets(runs: int) -> list[dict]:
    presets = json.loads(subprocess.run([*FPNSCOPE, "presets", "list", "--json"], cwd=ROOT, capture_output=True,
                                        text=True, check=True).stdout)
    rows = []
    for preset in presets:
        kind = preset["backbone"].split()[0]
        code = floor_imports(kind)
        floor, ours, pair = measure_pair(
            (f"python -c '{code}'", [PYTHON, "-c", code]),
            (f"fpnscope inspect {preset['name']} --json", [*FPNSCOPE, "inspect", preset["name"], "--json"]),
            runs,
        )
        line = f"{pair:.2f}x of '{code}'" if pair else "—"
        if kind in ("synthetic", "python") and pair:
            _, _, meta_pair = measure_pair(
                (f"python -c '{code}{FIRST_META_OP}'", [PYTHON, "-c", code + FIRST_META_OP]),
                (f"fpnscope inspect {preset['name']} --json", [*FPNSCOPE, "inspect", preset["name"], "--json"]),
                runs,
            )
            line += f", {meta_pair:.2f}x of it with torch's first meta op" if meta_pair else ""
        print(show(ours), f"  {line} (target ≤ 1.3x)")
        rows.append(asdict(ours) | {"floor": code, "floor_seconds": floor.seconds, "ratio": pair})
    return rows


def section_peers(runs: int) -> list[dict]:
    rows = []
    base = None
    for h, w, b in ((800, 1333, 1), (1536, 1536, 1), (2048, 2048, 8)):
        peers, ours, pair = measure_pair(
            (f"torchinfo + fvcore {h}x{w} batch {b}", [PYTHON, "-c", PEER_CODE, str(h), str(w), str(b)]),
            (f"fpnscope inspect resnet50_fpn {h}x{w} batch {b}",
             [*FPNSCOPE, "inspect", "resnet50_fpn", "--input", f"{h}x{w}", "--batch", str(b), "--json"]),
            max(1, runs - 2), PEER_MEMORY_CAP,
        )
        if ours.seconds is None:  # the peers failed first: time fpnscope alone
            ours = measure(f"fpnscope inspect resnet50_fpn {h}x{w} batch {b}",
                           [*FPNSCOPE, "inspect", "resnet50_fpn", "--input", f"{h}x{w}", "--batch", str(b), "--json"], runs)
        base = base or ours
        print(show(peers))
        print(show(ours), f"  {1 / pair:.2f}x faster than the peers" if pair else "")
        if ours.seconds and base.seconds:
            print(f"{'':58}   fpnscope at this size: {ours.seconds / base.seconds:.2f}x its time at 800x1333")
        rows.append({"size": f"{h}x{w}", "batch": b, "fpnscope": asdict(ours), "peers": asdict(peers),
                     "speedup": 1 / pair if pair else None})
    return rows


def section_compare(runs: int) -> list[dict]:
    one, three, pair = measure_pair(
        ("fpnscope inspect resnet50_fpn --json", [*FPNSCOPE, "inspect", "resnet50_fpn", "--json"]),
        ("fpnscope compare resnet50_fpn --neck fpn,pafpn,bifpn",
         [*FPNSCOPE, "compare", "resnet50_fpn", "--neck", "fpn,pafpn,bifpn", "--json"]),
        runs,
    )
    print(show(one))
    print(show(three), f"  {pair:.2f}x of one inspect" if pair else "")
    if one.seconds and three.seconds:
        print(f"{'':58}   {(three.seconds - one.seconds) / 2:.2f} s per extra variant")
    return [asdict(one), asdict(three)]


SECTIONS = {"startup": section_startup, "presets": section_presets, "peers": section_peers, "compare": section_compare}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per command (peers: two fewer, at least one)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} CPUs · {shutil.which('fpnscope') or 'python -m fpnscope'}")
    results = {}
    for name in args.only.split(","):
        print(f"\n== {name} ==")
        results[name] = SECTIONS[name](args.runs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
