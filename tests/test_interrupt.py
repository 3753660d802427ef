"""Ctrl-C in the middle of a long run: exit code 130, a short message, no traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A backbone whose forward says it has started, then runs until it is interrupted: the run is
# certainly in progress when the signal comes, however fast or slow the machine is. The loop
# gives up on its own after SAFETY seconds, so a missed signal fails the test instead of hanging it.
BACKBONE = textwrap.dedent(
    """
    import time
    from pathlib import Path

    from torch import nn


    class Endless(nn.Module):
        def __init__(self, marker, safety):
            super().__init__()
            self.marker, self.safety = Path(marker), safety
            self.conv = nn.Conv2d(3, 8, 3, stride=4, padding=1)

        def forward(self, x):
            self.marker.write_text("started")
            deadline = time.monotonic() + self.safety
            while time.monotonic() < deadline:
                time.sleep(0.05)
            return [self.conv(x)]
    """
)
SAFETY = 120.0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    marker = tmp_path / "started"
    (tmp_path / "endless.py").write_text(BACKBONE)
    doc = {
        "backbone": {"kind": "python", "target": "endless:Endless", "kwargs": {"marker": str(marker), "safety": SAFETY}},
        "neck": {"kind": "fpn", "out_channels": 8},
        "input": {"height": 64, "width": 64},
    }
    config = tmp_path / "endless.yaml"
    config.write_text(json.dumps(doc))  # JSON is YAML; the module is found next to the file
    proc = subprocess.Popen(
        [sys.executable, "-m", "fpnscope", "inspect", str(config), "--allow-python", "--device", "cpu"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # wait for the forward to begin; the overall limit is only a safety net, never a timing assumption
        deadline = time.monotonic() + SAFETY
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not marker.exists():
            out, err = proc.communicate(timeout=10) if proc.poll() is not None else ("", "")
            pytest.fail(f"the backbone's forward never started (exit {proc.poll()}): {err}")
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted"
    assert err.count("interrupted") == 1
    assert "Traceback" not in err
    assert out == ""
