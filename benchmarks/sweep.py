"""`fpnscope sweep` against one `inspect` and against the peers, on this machine, in one run.

    python benchmarks/sweep.py                         # about 3 minutes on 2 cores
    python benchmarks/sweep.py --runs 5 --peer-points 27

The grid: resnet50_fpn at its 800x1333 input, 3 necks x 3 widths x 3 level sets = 27 points.

  sweep   one cold `fpnscope sweep` of the 27 points against one cold `fpnscope inspect`, run
          alternately (a, b, a, b...); target: at most the inspect plus 0.3 s per point
  peers   the same points measured as a user would today: torchinfo.summary + fvcore's
          FlopCountAnalysis on the model, built on the CPU with fpnscope's own builders (torchvision
          has no PAFPN or BiFPN). The peers run --peer-points of the 27 in one process (imports
          paid once) and are extrapolated to 27: their imports plus 27 times their mean per point;
          target: the sweep at least 20x faster
  memory  peak resident memory of sweeps of 9, 27 and 81 points: flat in the number of points

Figures are medians of fresh processes; ratios are computed within the run, so machines compare
by ratio, not by time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import FPNSCOPE, PYTHON, ROOT, measure, measure_pair, show

NECKS = ["fpn", "pafpn", "bifpn"]
WIDTHS = [64, 128, 256]
LEVELS = [["C2", "C3", "C4", "C5"], ["C3", "C4", "C5"], ["C4", "C5"]]
GRID = ["--grid", "neck.kind=" + ",".join(NECKS), "--grid", "out_channels=" + ",".join(map(str, WIDTHS)),
        "--grid", "in_features=" + ",".join("[" + ", ".join(lv) + "]" for lv in LEVELS)]
POINTS = [{"neck.kind": k, "neck.out_channels": w, "neck.in_features": lv} for k, w, lv in itertools.product(NECKS, WIDTHS, LEVELS)]
TARGET_PER_POINT, TARGET_SPEEDUP = 0.3, 20.0

PEER_CODE = """
import json, sys, time
start = time.perf_counter()
import torch, torchinfo
from fvcore.nn import FlopCountAnalysis
from fpnscope.config.grid import neck_swap, point_overrides
from fpnscope.config.loader import load_config
from fpnscope.models.assemble import build_model
imported = time.perf_counter() - start
seconds = []
for values in json.loads(sys.argv[1]):
    t0 = time.perf_counter()
    kind = values["neck.kind"]
    cfg = load_config("resnet50_fpn", point_overrides(values, [], kind), neck_swap(kind) if kind != "fpn" else None).config
    model = build_model(cfg)[0].eval()
    x = torch.randn(cfg.input.batch, 3, cfg.input.height, cfg.input.width)
    with torch.no_grad():
        summary = torchinfo.summary(model, input_data=[x], depth=3, verbose=0)
        flops = FlopCountAnalysis(model, x)
        flops.unsupported_ops_warnings(False)
        flops.uncalled_modules_warnings(False)
        flops.total()
    seconds.append(time.perf_counter() - t0)
    del model, summary, flops
print(json.dumps({"import_seconds": imported, "point_seconds": seconds}))
"""


def spread(count: int) -> list[dict]:
    """``count`` of the 27 points, every neck, width and level set as evenly represented as can be:
    the diagonals of the 3 x 3 x 3 cube first (a Latin square), then the rest in grid order."""
    latin = [p for i, p in enumerate(POINTS) if (i // 9 + i // 3 + i) % 3 == 0]
    rest = [p for p in POINTS if p not in latin]
    return (latin + rest)[:count]


def section_sweep(runs: int) -> dict:
    inspect, sweep, pair = measure_pair(
        ("fpnscope inspect resnet50_fpn --json", [*FPNSCOPE, "inspect", "resnet50_fpn", "--json"]),
        (f"fpnscope sweep resnet50_fpn ({len(POINTS)} points) --json", [*FPNSCOPE, "sweep", "resnet50_fpn", *GRID, "--json"]),
        runs,
    )
    print(show(inspect))
    print(show(sweep))
    per_point = (sweep.seconds - inspect.seconds) / len(POINTS) if sweep.seconds and inspect.seconds else None
    if per_point is not None and pair is not None:
        print(f"{'':58}   {pair:.2f}x one inspect: inspect + {per_point:.3f} s per point "
              f"(target ≤ {TARGET_PER_POINT} s per point)")
    return {"inspect": inspect.__dict__, "sweep": sweep.__dict__, "ratio": pair, "per_point_seconds": per_point}


def section_peers(count: int, sweep_seconds: float | None) -> dict:
    chosen = spread(count)
    start = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", PEER_CODE, json.dumps(chosen)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"torchinfo + fvcore failed: {done.stderr.strip().splitlines()[-1]}")
        return {"failure": done.stderr}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    per_point = statistics.fmean(figures["point_seconds"])
    total = figures["import_seconds"] + len(POINTS) * per_point
    print(f"{f'torchinfo + fvcore, {count} of the {len(POINTS)} points':<58} {wall:7.2f} s   "
          f"imports {figures['import_seconds']:.2f} s, {per_point:.2f} s per point "
          f"(min {min(figures['point_seconds']):.2f}, max {max(figures['point_seconds']):.2f})")
    print(f"{f'  extrapolated to {len(POINTS)} points':<58} {total:7.2f} s")
    speedup = total / sweep_seconds if sweep_seconds else None
    if speedup is not None:
        print(f"{'':58}   the sweep is {speedup:.1f}x faster (target ≥ {TARGET_SPEEDUP:.0f}x)")
    return {"points": chosen, "wall_seconds": wall, **figures, "per_point_seconds": per_point,
            "extrapolated_seconds": total, "speedup": speedup}


def section_memory() -> dict:
    rows = {}
    for widths in (WIDTHS[:1], WIDTHS, [32, 48, 64, 96, 128, 160, 192, 224, 256]):
        grid = [*GRID[:2], "--grid", "out_channels=" + ",".join(map(str, widths)), *GRID[4:]]
        count = 9 * len(widths)
        sample = measure(f"fpnscope sweep resnet50_fpn ({count} points), peak memory",
                         [*FPNSCOPE, "sweep", "resnet50_fpn", *grid, "--json"], 1)
        print(show(sample))
        rows[count] = sample.peak_bytes
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of the sweep and of the inspect")
    parser.add_argument("--peer-points", type=int, default=9, help="points the peers measure (1 to 27)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} CPUs · {len(POINTS)} points")
    print("\n== sweep ==")
    results: dict = {"sweep": section_sweep(args.runs)}
    print("\n== peers ==")
    results["peers"] = section_peers(max(1, min(args.peer_points, len(POINTS))), results["sweep"]["sweep"]["seconds"])
    print("\n== memory ==")
    results["memory"] = section_memory()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
