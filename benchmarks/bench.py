"""fpnscope against its floor and its peers, on this machine, in one run.

    python benchmarks/bench.py                     # everything (about 15 minutes on 2 cores)
    python benchmarks/bench.py --only startup,peers --runs 3

Every figure is the median wall time of several runs of a fresh process, with the process's peak
resident memory; ratios are computed within the run, so machines compare by ratio, not by time.

Sections:
  startup  `fpnscope --help` and `presets list` against `python -c "import typer, rich"`
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


def ratio(a: Sample, b: Sample) -> str:
    if a.seconds is None or b.seconds is None:
        return "—"
    return f"{a.seconds / b.seconds:.2f}x"


def show(sample: Sample) -> str:
    if sample.seconds is None:
        return f"{sample.label:<58} {sample.failure}"
    return f"{sample.label:<58} {sample.seconds:7.2f} s {sample.peak_bytes / 2**20:8.0f} MiB"


def section_startup(runs: int) -> list[dict]:
    floor = measure("python -c 'import typer, rich'", [PYTHON, "-c", "import typer, rich"], runs)
    rows = [floor]
    print(show(floor))
    for args in (["--help"], ["presets", "list"]):
        sample = measure("fpnscope " + " ".join(args), [*FPNSCOPE, *args], runs)
        rows.append(sample)
        print(show(sample), f"  {ratio(sample, floor)} of the floor (target ≤ 1.5x, < 0.5 s)")
    return [asdict(r) for r in rows]


def floor_imports(preset: str) -> str:
    raw = json.loads(subprocess.run([*FPNSCOPE, "presets", "list", "--json"], cwd=ROOT, capture_output=True,
                                    text=True, check=True).stdout)
    backbone = next(r["backbone"] for r in raw if r["name"] == preset).split()[0]
    return {"timm": "import torch, timm", "torchvision": "import torch, torchvision"}.get(backbone, "import torch")


def section_presets(runs: int) -> list[dict]:
    names = [r["name"] for r in json.loads(subprocess.run([*FPNSCOPE, "presets", "list", "--json"], cwd=ROOT,
                                                          capture_output=True, text=True, check=True).stdout)]
    floors: dict[str, Sample] = {}
    rows = []
    for name in names:
        code = floor_imports(name)
        if code not in floors:
            floors[code] = measure(f"python -c '{code}'", [PYTHON, "-c", code], runs)
            print(show(floors[code]))
        sample = measure(f"fpnscope inspect {name} --json", [*FPNSCOPE, "inspect", name, "--json"], runs)
        print(show(sample), f"  {ratio(sample, floors[code])} of '{code}' (target ≤ 1.3x)")
        rows.append(asdict(sample) | {"floor": code, "floor_seconds": floors[code].seconds,
                                      "ratio": sample.seconds / floors[code].seconds if sample.seconds else None})
    return rows


def section_peers(runs: int) -> list[dict]:
    rows = []
    base = None
    for h, w, b in ((800, 1333, 1), (1536, 1536, 1), (2048, 2048, 8)):
        ours = measure(f"fpnscope inspect resnet50_fpn {h}x{w} batch {b}",
                       [*FPNSCOPE, "inspect", "resnet50_fpn", "--input", f"{h}x{w}", "--batch", str(b), "--json"], runs)
        peers = measure(f"torchinfo + fvcore {h}x{w} batch {b}", [PYTHON, "-c", PEER_CODE, str(h), str(w), str(b)],
                        max(1, runs - 2), PEER_MEMORY_CAP)
        base = base or ours
        print(show(ours))
        print(show(peers), f"  fpnscope {ratio(peers, ours)} faster" if peers.seconds else "")
        if ours.seconds and base.seconds:
            print(f"{'':58}   fpnscope at this size: {ours.seconds / base.seconds:.2f}x its time at 800x1333")
        rows.append({"size": f"{h}x{w}", "batch": b, "fpnscope": asdict(ours), "peers": asdict(peers)})
    return rows


def section_compare(runs: int) -> list[dict]:
    one = measure("fpnscope inspect resnet50_fpn --json", [*FPNSCOPE, "inspect", "resnet50_fpn", "--json"], runs)
    three = measure("fpnscope compare resnet50_fpn --neck fpn,pafpn,bifpn",
                    [*FPNSCOPE, "compare", "resnet50_fpn", "--neck", "fpn,pafpn,bifpn", "--json"], runs)
    print(show(one))
    print(show(three), f"  {ratio(three, one)} of one inspect")
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
