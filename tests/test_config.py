"""Loading presets: names, paths, _base_ inheritance, --set overrides and the errors of each."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from fpnscope.config.loader import deep_merge, load_raw, resolve
from fpnscope.config.overrides import apply_overrides, parse_override
from fpnscope.config.presets import preset_names
from fpnscope.config.schema import FPNNeck, PresetConfig, SyntheticBackbone
from fpnscope.errors import ConfigError
from tests.conftest import SYNTHETIC
from tests.helpers import load_config


def test_bundled_preset_by_name():
    loaded = load_config("resnet50_fpn")
    assert loaded.source.bundled
    assert loaded.name == "resnet50_fpn"
    assert loaded.config.backbone.kind == "torchvision"
    assert loaded.config.neck.extra_levels.count == 1


def test_every_bundled_preset_validates_and_names_itself():
    for name in preset_names():
        loaded = load_config(name)
        assert loaded.config.name == name, f"{name}.yaml must say name: {name}"
        assert loaded.config.description, f"{name}.yaml needs a one-line description"


def test_file_by_path(write_yaml):
    path = write_yaml("mine.yaml", SYNTHETIC)
    loaded = load_config(str(path))
    assert not loaded.source.bundled
    assert loaded.name == "mine"
    assert isinstance(loaded.config.backbone, SyntheticBackbone)


def test_base_by_preset_name_deep_merges(write_yaml):
    path = write_yaml("child.yaml", {"_base_": "resnet50_fpn", "neck": {"out_channels": 128, "norm": "gn"}})
    cfg = load_config(str(path)).config
    assert cfg.neck.out_channels == 128
    assert cfg.neck.norm == "gn"
    assert cfg.neck.extra_levels.count == 1  # kept from the base
    assert cfg.backbone.name == "resnet50"
    assert cfg.name is None  # a derived file is not its base


def test_base_by_relative_path_and_chain(write_yaml):
    write_yaml("bases/a.yaml", SYNTHETIC)
    write_yaml("bases/b.yaml", {"_base_": "a.yaml", "neck": {"out_channels": 64}})
    path = write_yaml("c.yaml", {"_base_": "bases/b.yaml", "input": {"batch": 4}})
    cfg = load_config(str(path)).config
    assert (cfg.neck.out_channels, cfg.input.batch, cfg.input.height) == (64, 4, 128)


def test_changing_kind_replaces_the_section(write_yaml):
    path = write_yaml(
        "syn.yaml",
        {"_base_": "resnet50_fpn", "backbone": {"kind": "synthetic", "channels": [8], "strides": [32]}},
    )
    cfg = load_config(str(path)).config
    assert cfg.backbone == SyntheticBackbone(kind="synthetic", channels=(8,), strides=(32,))


def test_deep_merge_replaces_lists_and_keeps_inputs_untouched():
    base = {"a": {"x": [1, 2], "y": 1}}
    merged = deep_merge(base, {"a": {"x": [3]}})
    assert merged == {"a": {"x": [3], "y": 1}}
    assert base == {"a": {"x": [1, 2], "y": 1}}


def test_base_cycle_is_an_error(write_yaml):
    write_yaml("a.yaml", {"_base_": "b.yaml", **SYNTHETIC})
    path = write_yaml("b.yaml", {"_base_": "a.yaml"})
    with pytest.raises(ConfigError, match="loops"):
        load_config(str(path))


def test_base_unknown_preset_names_the_file(write_yaml):
    path = write_yaml("x.yaml", {"_base_": "resnet50_fpm"})
    with pytest.raises(ConfigError, match=r"x\.yaml: _base_: unknown preset 'resnet50_fpm'.*resnet50_fpn"):
        load_config(str(path))


@pytest.mark.parametrize(
    ("item", "check"),
    [
        ("neck.out_channels=128", lambda c: c.neck.out_channels == 128),
        ("neck.in_features=[C3, C4, C5]", lambda c: c.neck.in_features == ("C3", "C4", "C5")),
        ("neck.extra_levels={count: 2, mode: conv}", lambda c: c.neck.extra_levels.mode == "conv"),
        ("neck.extra_levels=null", lambda c: c.neck.extra_levels is None),
        ("neck.extra_levels.count=3", lambda c: c.neck.extra_levels.count == 3),
        ("input.height=64", lambda c: c.input.height == 64),
        ("backbone.returned_layers.0=2", lambda c: c.backbone.returned_layers == (2, 2, 3, 4)),
        ("neck.upsample=bilinear", lambda c: c.neck.upsample == "bilinear"),
    ],
)
def test_set_overrides(item, check):
    raw = load_raw(resolve("resnet50_fpn"))
    if "returned_layers.0" in item:
        with pytest.raises(ConfigError, match="returned_layers must be increasing"):
            load_config("resnet50_fpn", [item])
        return
    assert check(PresetConfig.model_validate(apply_overrides(raw, [parse_override(item)])))


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("neck.out_channels", "expected key.path=value"),
        ("=3", "expected key.path=value"),
        ("neck..x=3", "expected key.path=value"),
        ("neck.out_channels=[1,", "invalid YAML"),
        ("backbone.returned_layers.9=1", "not an index"),
        ("neck.out_channels.x=1", "is not a section"),
    ],
)
def test_bad_set_items(item, message):
    with pytest.raises(ConfigError, match=message):
        load_config("resnet50_fpn", [item])


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["neck.out_chanels=3"], r"neck\.out_chanels: unknown key 'out_chanels' \(did you mean 'out_channels'\?\)"),
        (["neck.kind=fpnn"], r"neck\.kind: unknown kind 'fpnn' \(did you mean 'fpn'\? kinds: fpn, pafpn, bifpn"),
        (["backbone.kind=timmm"], r"backbone\.kind: unknown kind 'timmm' \(did you mean 'timm'\?"),
        (["neck.upsample=nereast"], r"neck\.upsample: 'nereast' is not allowed \(did you mean 'nearest'\?"),
        (["neck.out_channels=0"], r"neck\.out_channels: Input should be greater than 0 \(got 0\)"),
        (["neck.out_channels=abc"], r"neck\.out_channels: Input should be a valid integer"),
        (["neck.in_channels=[256, -1]"], r"neck\.in_channels: in_channels must hold positive integers"),
        (["neck.in_channels=some"], r"in_channels must be 'auto' or a list"),
        (["neck.norm=gn", "neck.out_channels=100"], r"divisible by gn_groups"),
        (["neck.extra_levels.source=c5"], r"source: c5 needs mode: conv"),
        (["backbone.name=resnet5"], r"backbone\.name: 'resnet5' is not allowed \(did you mean 'resnet50'\?"),
        (["input=3"], r"input: expected a mapping"),
        (["neck=null"], r"neck: .*"),
        (["neck.kind=pafpn", "neck.fusion=weighted"], r"neck\.fusion: 'fusion' does not apply here: pafpn fuses by addition"),
        (["neck={kind: bifpn, out_channels: 64}"], r"neck\.out_channels: .* a BiFPN's channels are its width"),
        (["neck={kind: bifpn, extra_levels: {mode: conv}}"], r"neck: extra_levels\.mode: a BiFPN makes its extra levels by resampling"),
        (["neck={kind: simple_fpn, upsample: nearest}"], r"neck\.upsample: .* transposed convolutions"),
        (["neck={kind: simple_fpn, in_features: [C4, C5]}"], r"simple_fpn reads exactly one level"),
        (["neck={kind: yolo_pan, extra_levels: {count: 1}}"], r"neck\.extra_levels: .* exactly three outputs"),
        (["neck={kind: channel_mapper, fusion: sum}"], r"neck\.fusion: .* each level is mapped on its own"),
        (["head={kind: retina, norm_per_level: true}"], r"head: norm_per_level: true needs a norm"),
        (["head={kind: seg, dropout: 1.5}"], r"head\.dropout: Input should be less than 1"),
        (["head={kind: detr}"], r"head\.kind: unknown kind 'detr' \(kinds: retina, seg, cls, faster_rcnn, mask_rcnn, fcos, "),
    ],
)
def test_schema_errors_name_the_file_key_and_fix(sets, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_config("resnet50_fpn", sets)
    assert str(info.value).startswith("resnet50_fpn: ")


def test_synthetic_lengths_must_agree(write_yaml):
    doc = {**SYNTHETIC, "backbone": {"kind": "synthetic", "channels": [1, 2], "strides": [4]}}
    with pytest.raises(ConfigError, match="channels has 2 entries but strides has 1"):
        load_config(str(write_yaml("bad.yaml", doc)))


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown preset 'resnet50_fnp'; did you mean 'resnet50_fpn'"):
        load_config("resnet50_fnp")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("neck: {kind: fpn\n", r"bad\.yaml:2:1: invalid YAML"),
        ("a: b: c\n", r"bad\.yaml:1:5: invalid YAML: mapping values are not allowed"),
        ("!!python/object/apply:os.system ['true']\n", "tags such as !!python/object are not allowed"),
        ("[1, 2]\n", "the top level must be a mapping"),
        ("", "the file is empty"),
        ("a: &a [1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i-1}'}" + f", *{'a' if i == 0 else f'b{i-1}'}" * 7 + "]\n" for i in range(7)),
         "expands to [\\d,]+ values through its aliases"),
    ],
)
def test_yaml_errors(write_yaml, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(str(write_yaml("bad.yaml", text)))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(str(tmp_path) + "/")


def test_oversized_file_is_refused(write_yaml):
    path = write_yaml("big.yaml", "# " + "x" * 1_000_100 + "\n")
    with pytest.raises(ConfigError, match="over the 1,000,000-byte limit"):
        load_config(str(path))


def test_json_schema_describes_every_kind():
    schema = PresetConfig.model_json_schema()
    text = json.dumps(schema)
    for kind in ("timm", "torchvision", "synthetic", "python", "fpn"):
        assert f'"{kind}"' in text
    assert set(schema["required"]) == {"backbone", "neck"}


def test_models_are_frozen():
    neck = FPNNeck(kind="fpn")
    with pytest.raises(ValidationError):
        neck.out_channels = 3  # type: ignore[misc]
