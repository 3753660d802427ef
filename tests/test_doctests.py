"""The examples in docstrings run, in every module of the package."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fpnscope

MODULES = sorted(m.name for m in pkgutil.walk_packages(fpnscope.__path__, "fpnscope.") if m.name != "fpnscope.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
