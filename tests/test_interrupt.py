"""Ctrl-C in the middle of a long run: exit code 130, a short message, no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_exits_130_without_a_traceback():
    # a real CPU forward of a large input: long enough to be interrupted
    proc = subprocess.Popen(
        [sys.executable, "-m", "fpnscope", "inspect", "resnet50_fpn", "--device", "cpu", "--input", "1024", "--batch", "8"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(4)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "interrupted"
    assert "Traceback" not in err
