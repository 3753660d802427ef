"""The edit loop against a cold start, on this machine, in one run.

    python benchmarks/watch.py                  # resnet50_fpn, 8 saves, 3 cold inspects
    python benchmarks/watch.py --saves 4 --preset retinanet_r50_fpn

`fpnscope inspect FILE --watch` runs with its output piped; the script saves a change to the YAML
(the neck's width, alternating) and times from the moment the file is written to the moment the
redrawn report's closing line arrives. A cold `fpnscope inspect FILE` (a fresh process: imports
and all) is timed beside it. Target: under 0.5 s from save to redrawn report.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "── watching"


def cold(path: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fpnscope", "inspect", str(path)], capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return times


def warm(path: Path, saves: int) -> list[float]:
    proc = subprocess.Popen([sys.executable, "-m", "fpnscope", "inspect", str(path), "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    drawn = threading.Event()
    arrived: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(MARKER):
                arrived.append(time.perf_counter())
                drawn.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not drawn.wait(300):
            raise SystemExit("the first report never came")
        text = path.read_text()
        times = []
        for i in range(saves):
            drawn.clear()
            width = "128" if i % 2 == 0 else "256"
            text = text.replace("out_channels: 256", f"out_channels: {width}").replace(
                "out_channels: 128", f"out_channels: {width}")
            time.sleep(0.3)  # a person types between saves; mtimes need to differ
            saved = time.perf_counter()
            path.write_text(text)
            if not drawn.wait(60):
                raise SystemExit("no report after a save")
            times.append(arrived[-1] - saved)
        return times
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="resnet50_fpn")
    parser.add_argument("--saves", type=int, default=8)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{args.preset}.yaml"
        path.write_text((ROOT / "presets" / f"{args.preset}.yaml").read_text())
        redraws = warm(path, args.saves)
        starts = cold(path, args.cold)
    median_warm, median_cold = statistics.median(redraws), statistics.median(starts)
    print(f"{args.preset}: save to redrawn report, median of {len(redraws)}: {median_warm:.3f} s "
          f"(min {min(redraws):.3f}, max {max(redraws):.3f}); target < 0.5 s: {'met' if median_warm < 0.5 else 'missed'}")
    print(f"cold inspect, median of {len(starts)}: {median_cold:.2f} s; the edit loop redraws in "
          f"{median_warm / median_cold:.2f}x of a cold start ({median_cold / median_warm:.1f}x faster)")


if __name__ == "__main__":
    main()
