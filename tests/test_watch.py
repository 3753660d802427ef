"""`inspect --watch`: a save redraws the report, the user's edited module imported again."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "usercode"
MARKER = "── watching"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_fixed_line_is_seen_on_the_next_save(tmp_path):
    shutil.copy(CORPUS / "naive_fpn.py", tmp_path)
    config = tmp_path / "naive.yaml"
    config.write_text((CORPUS / "naive_fpn.yaml").read_text().replace("800, width: 1333", "256, width: 360"))
    proc = subprocess.Popen([sys.executable, "-m", "fpnscope", "inspect", str(config), "--allow-python", "--watch"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    reports: list[str] = []
    current: list[str] = []
    drawn = threading.Semaphore(0)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            current.append(line)
            if line.startswith(MARKER):
                reports.append("".join(current))
                current.clear()
                drawn.release()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert drawn.acquire(timeout=240), "no first report"
        assert "forward-error" in reports[0] and "watching 2 files" in reports[0]  # the YAML and the module
        module = tmp_path / "naive_fpn.py"
        time.sleep(0.05)  # a later mtime than the first import's
        module.write_text(module.read_text().replace('F.interpolate(p, scale_factor=2, mode="nearest")',
                                                     'F.interpolate(p, size=lat.shape[-2:], mode="nearest")'))
        assert drawn.acquire(timeout=120), "no report after saving the module"
        assert "forward-error" not in reports[1] and "Pyramid levels" in reports[1] and "P2" in reports[1]
        config.write_text(config.read_text().replace("kind: torchvision", "kind: torchvison"))
        assert drawn.acquire(timeout=120), "no report after saving the YAML"
        assert "error: " in reports[2] and "did you mean 'torchvision'" in reports[2]  # and it keeps watching
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watch_draws_the_terminal_view_only(cli):
    result = cli("inspect", "synthetic_fpn", "--watch", "--json")
    assert result.exit_code == 2 and "--watch redraws the terminal view" in result.stderr
