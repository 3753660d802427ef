"""The examples in docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "fpnscope.spec",
    "fpnscope.suggest",
    "fpnscope.fmt",
    "fpnscope.config.loader",
    "fpnscope.config.summary",
    "fpnscope.models.blocks",
    "fpnscope.models.necks.fpn",
    "fpnscope.models.necks.extra",
    "fpnscope.models.backbones",
    "fpnscope.models.backbones.synthetic",
    "fpnscope.models.backbones.from_timm",
    "fpnscope.models.backbones.from_torchvision",
    "fpnscope.models.assemble",
    "fpnscope.analysis.counter",
    "fpnscope.analysis.device",
    "fpnscope.analysis.shapes",
    "fpnscope.analysis.diagnostics",
    "fpnscope.analysis.pipeline",
    "fpnscope.cli",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
