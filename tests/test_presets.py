"""Every bundled preset is built and run for real, and agrees with what it declares."""

from __future__ import annotations

import pytest
import torch
from torch.utils._pytree import tree_flatten

from fpnscope.analysis.measure.run import measure
from fpnscope.config.loader import load_raw, resolve
from fpnscope.config.presets import preset_names
from fpnscope.config.summary import pyramid_levels
from fpnscope.spec import LevelSpec
from tests.helpers import load_config

SMALL = ["input.height=128", "input.width=160", "input.batch=1"]


def specs_of(levels) -> list[LevelSpec]:
    return [lvl.spec for lvl in levels]


@pytest.mark.parametrize("name", preset_names())
def test_preset_runs_on_cpu_and_matches_meta_and_declarations(name):
    cfg = load_config(name, SMALL).config
    real = measure(cfg, torch.device("cpu"))
    meta = measure(cfg, torch.device("meta"))
    assert real.backbone_levels == meta.backbone_levels
    assert real.levels == meta.levels
    assert real.head_outputs == meta.head_outputs
    assert (real.model.head is None) == (cfg.head is None)
    assert real.head_failure is None
    if real.declared is not None:
        assert specs_of(real.backbone_levels) == real.declared
    assert specs_of(real.levels) == real.neck_specs
    for out in real.levels:
        assert out.shape[0] == 1 and out.channels > 0
    # the real forward produced finite numbers
    model = real.model.eval()
    with torch.no_grad():
        outs = tree_flatten(model(torch.randn(1, 3, 128, 160)))[0]
    assert outs and all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize("name", preset_names())
def test_presets_list_levels_are_the_real_ones(name):
    listed = pyramid_levels(load_raw(resolve(name)))
    assert listed is not None, f"{name}: give neck.in_features so `presets list` can show its levels"
    measured = measure(load_config(name, SMALL).config, torch.device("meta"))
    assert listed == [lvl.name for lvl in measured.levels]


def test_at_least_the_starter_presets_exist():
    assert {"resnet50_fpn", "retinanet_r50_fpn", "synthetic_fpn", "pvt_v2_b2_fpn"} <= set(preset_names())
