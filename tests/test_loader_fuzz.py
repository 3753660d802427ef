"""Property: whatever YAML or option text comes in, the loader gives a valid config or raises the
project's own ConfigError (never a bare KeyError, TypeError, RecursionError...)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpnscope.config.inputs import parse_size
from fpnscope.config.loader import LoadedConfig
from fpnscope.errors import ConfigError
from tests.helpers import load_config

KEYS = [
    "name", "description", "input", "height", "width", "batch", "channels", "backbone", "neck", "head",
    "kind", "strides", "in_features", "in_channels", "out_channels", "extra_levels", "count", "mode",
    "source", "norm", "act", "upsample", "fusion", "attention", "_base_", "target", "kwargs", "img_size",
    "width_multiple", "repeats", "num_classes", "out_indices", "returned_layers",
]
WORDS = ["fpn", "pafpn", "bifpn", "timm", "synthetic", "torchvision", "python", "auto", "gn", "bn", "relu",
         "maxpool", "conv", "c5", "p5", "resnet50", "retina", "seg", "C3", "C4", "P3", "resnet50_fpn", "x.yaml"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(WORDS), st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=6),
    ),
    max_leaves=40,
)
FUZZ = settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 200)), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_text(text: str, overrides: list[str] | None = None) -> LoadedConfig | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_config(str(path), overrides or [])
        except ConfigError:
            return None


@FUZZ
@given(documents)
def test_any_yaml_document(doc):
    loaded = load_text(yaml.safe_dump(doc, allow_unicode=True))
    if loaded is not None:
        assert loaded.config.backbone and loaded.config.neck


@FUZZ
@given(st.text(max_size=200))
def test_any_text(text):
    load_text(text)


BASE = yaml.safe_dump({"backbone": {"kind": "synthetic", "channels": [8, 16], "strides": [8, 16]},
                       "neck": {"kind": "fpn"}})


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=30), st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
    ["neck.out_channels", "neck", "input.height", "backbone.channels.0", "neck.extra_levels.count",
     "head", "neck.kind", "a.b.c", "backbone.strides.5"]), st.text(max_size=15))), max_size=4))
def test_any_set_options(items):
    load_text(BASE, items)


@FUZZ
@given(st.text(max_size=20))
def test_any_input_size(text):
    try:
        height, width = parse_size(text)
    except ConfigError:
        return
    assert height > 0 and width > 0
