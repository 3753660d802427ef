"""Shared helpers: a CLI runner with stdout and stderr kept apart, and small YAML files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fpnscope.cli import app


@pytest.fixture
def cli():
    """Run ``fpnscope ARGS``; returns the click Result (``.stdout``, ``.stderr``, ``.exit_code``)."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), env={"COLUMNS": "100"})

    return run


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a YAML document (a dict or raw text) to ``tmp_path/name`` and return its path."""

    def write(name: str, doc: dict[str, Any] | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
        return path

    return write


def parse_json(text: str) -> Any:
    """Parse the whole of stdout as JSON (fails if anything else was printed)."""
    return json.loads(text)


SYNTHETIC = {
    "backbone": {"kind": "synthetic", "channels": [256, 512, 1024, 2048], "strides": [4, 8, 16, 32]},
    "neck": {"kind": "fpn", "out_channels": 256},
    "input": {"height": 128, "width": 160},
}


@pytest.fixture
def devices_seen():
    """The device types of every tensor any module received while the fixture is active."""
    import torch
    from torch.nn.modules.module import register_module_forward_pre_hook

    seen: set[str] = set()

    def record(module: Any, args: tuple) -> None:
        seen.update(a.device.type for a in args if isinstance(a, torch.Tensor))

    handle = register_module_forward_pre_hook(record)
    yield seen
    handle.remove()
