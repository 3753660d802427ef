"""The package as installed: every subpackage listed, presets shipped, heavy imports kept lazy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "fpnscope").rglob("__init__.py")
    }
    assert found | {"fpnscope.presets"} == listed


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


def test_importing_the_cli_does_not_import_torch():
    modules = _modules_after("import fpnscope.cli")
    assert "torch" not in modules
    assert "fpnscope.config.schema" not in modules


def test_listing_presets_imports_neither_torch_nor_the_schema():
    code = "from typer.testing import CliRunner\nfrom fpnscope.cli import app\nCliRunner().invoke(app, ['presets', 'list'])"
    modules = _modules_after(code)
    assert "torch" not in modules
    assert "fpnscope.config.schema" not in modules  # listing reads YAML, it does not validate


@pytest.mark.parametrize("preset", ["synthetic_fpn"])
def test_synthetic_inspect_imports_neither_timm_nor_torchvision(preset):
    code = (
        "from typer.testing import CliRunner\nfrom fpnscope.cli import app\n"
        f"r = CliRunner().invoke(app, ['inspect', '{preset}', '--json'])\nassert r.exit_code == 0, r.output"
    )
    modules = _modules_after(code)
    assert "torch" in modules
    assert "timm" not in modules and "torchvision" not in modules


def test_python_dash_m_runs():
    out = subprocess.run(
        [sys.executable, "-m", "fpnscope", "--version"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.startswith("fpnscope ")
