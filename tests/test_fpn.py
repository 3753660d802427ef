"""The FPN neck: equivalence with torchvision, parameter formulas, every option, odd sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

from fpnscope.models.necks.fpn import build_fpn
from fpnscope.spec import LevelSpec

IN_CHANNELS = [16, 32, 64]
SPECS = [LevelSpec.of("C", c, s) for c, s in zip(IN_CHANNELS, [8, 16, 32])]


def feats(height: int = 50, width: int = 67, batch: int = 2, channels=IN_CHANNELS) -> list[torch.Tensor]:
    """Random maps sized as a conv stack sizes them (ceil), so odd inputs give 7 vs 13 etc."""
    g = torch.Generator().manual_seed(0)
    sizes = [(-(-height // s), -(-width // s)) for s in (1, 2, 4, 8, 16)[: len(channels)]]
    return [torch.randn(batch, c, h, w, generator=g) for c, (h, w) in zip(channels, sizes)]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def copy_from_torchvision(ours: nn.Module, ref: FeaturePyramidNetwork) -> None:
    """Load torchvision's weights into ours under our names (strict: every tensor must map)."""
    mapping = {}
    for key, value in ref.state_dict().items():
        parts = key.split(".")
        if parts[0] in ("inner_blocks", "layer_blocks"):
            group = "lateral" if parts[0] == "inner_blocks" else "output"
            sub = {"0": "conv", "1": "norm"}[parts[2]]
            mapping[".".join([group, parts[1], sub, *parts[3:]])] = value
        elif parts[0] == "extra_blocks":
            index = {"p6": "0", "p7": "1"}[parts[1]]
            mapping[f"extra.convs.{index}.conv.{parts[2]}"] = value
    ours.load_state_dict(mapping, strict=True)


def assert_same_outputs(ours: nn.Module, ref: FeaturePyramidNetwork, xs: list[torch.Tensor]) -> None:
    ours.eval(), ref.eval()
    with torch.no_grad():
        expected = list(ref({f"c{i}": x for i, x in enumerate(xs)}).values())
        got = ours(xs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(50, 67), (64, 64), (37, 51)])
def test_equals_torchvision_with_last_level_maxpool(size):
    ref = FeaturePyramidNetwork(IN_CHANNELS, 24, extra_blocks=LastLevelMaxPool())
    ours, specs = build_fpn(SPECS, out_channels=24, extra_levels={"count": 1, "mode": "maxpool"})
    assert count(ours) == count(ref)
    copy_from_torchvision(ours, ref)
    assert_same_outputs(ours, ref, feats(*size))
    assert [s.name for s in specs] == ["P3", "P4", "P5", "P6"]


@pytest.mark.parametrize(("source", "p6_in"), [("c5", IN_CHANNELS[-1]), ("p5", 24)])
def test_equals_torchvision_with_p6p7(source, p6_in):
    # torchvision reads P5 exactly when the P6 conv's input width equals out_channels.
    ref = FeaturePyramidNetwork(IN_CHANNELS, 24, extra_blocks=LastLevelP6P7(p6_in, 24))
    ours, specs = build_fpn(SPECS, out_channels=24, extra_levels={"count": 2, "mode": "conv", "source": source})
    assert count(ours) == count(ref)
    copy_from_torchvision(ours, ref)
    assert_same_outputs(ours, ref, feats(37, 51))
    assert [s.name for s in specs] == ["P3", "P4", "P5", "P6", "P7"]


def test_equals_torchvision_with_batchnorm_and_groupnorm():
    for norm, layer in (("bn", nn.BatchNorm2d), ("gn", lambda c: nn.GroupNorm(8, c))):
        ref = FeaturePyramidNetwork(IN_CHANNELS, 24, norm_layer=layer)
        ours, _ = build_fpn(SPECS, out_channels=24, norm=norm, gn_groups=8)
        assert count(ours) == count(ref), norm
        copy_from_torchvision(ours, ref)
        assert_same_outputs(ours, ref, feats(45, 61))


def closed_form_params(cin: list[int], d: int, *, output_convs: bool, norm: str, extra: tuple[int, str, str]) -> int:
    """FPN parameters by hand: conv weights, a bias when no norm follows, 2·d for each norm."""
    bias_or_norm = 2 * d if norm != "none" else d
    total = sum(c * d + bias_or_norm for c in cin)  # laterals
    if output_convs:
        total += len(cin) * (9 * d * d + bias_or_norm)
    count_, mode, source = extra
    if mode == "conv":
        for i in range(count_):
            first = cin[-1] if (i == 0 and source == "c5") else d
            total += 9 * first * d + bias_or_norm
    return total


@pytest.mark.parametrize("norm", ["none", "bn", "gn"])
@pytest.mark.parametrize("output_convs", [True, False])
@pytest.mark.parametrize("extra", [(0, "maxpool", "p5"), (2, "maxpool", "p5"), (2, "conv", "c5"), (3, "conv", "p5")])
def test_parameter_count_matches_closed_form(norm, output_convs, extra):
    levels = {"count": extra[0], "mode": extra[1], "source": extra[2]}
    module, _ = build_fpn(SPECS, out_channels=32, output_convs=output_convs, norm=norm, gn_groups=8, extra_levels=levels)
    assert count(module) == closed_form_params(IN_CHANNELS, 32, output_convs=output_convs, norm=norm, extra=extra)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
@pytest.mark.parametrize("act", ["none", "relu", "silu"])
@pytest.mark.parametrize("size", [(50, 67), (33, 33), (17, 95)])
def test_shapes_for_odd_sizes_and_options(upsample, act, size):
    module, specs = build_fpn(SPECS, out_channels=16, upsample=upsample, act=act, extra_levels={"count": 1})
    xs = feats(*size)
    with torch.no_grad():
        outs = module(xs)
    for out, x, spec in zip(outs, xs, specs):
        assert out.shape == (x.shape[0], 16, *x.shape[-2:])
        assert spec.channels == 16
    last = outs[len(xs) - 1]
    assert outs[-1].shape[-2:] == tuple((d + 1) // 2 for d in last.shape[-2:])  # kernel 1, stride 2: ceil


def test_activation_and_norm_modules_are_where_asked():
    module, _ = build_fpn(SPECS, out_channels=16, norm="bn", act="silu")
    lateral = module.lateral[0]
    assert isinstance(lateral.norm, nn.BatchNorm2d) and isinstance(lateral.act, nn.SiLU)
    assert lateral.conv.bias is None
    plain, _ = build_fpn(SPECS, out_channels=16)
    assert plain.lateral[0].conv.bias is not None and not hasattr(plain.lateral[0], "norm")


@pytest.mark.parametrize("levels", [1, 2, 4, 5])
def test_any_number_of_levels(levels):
    channels = [8 * (i + 1) for i in range(levels)]
    specs = [LevelSpec.of("C", c, 2 ** (i + 2)) for i, c in enumerate(channels)]
    module, out = build_fpn(specs, out_channels=8, extra_levels={"count": 1})
    xs = feats(64, 80, 1, channels)
    outs = module(xs)
    assert len(outs) == levels + 1
    assert [s.name for s in out] == [f"P{i + 2}" for i in range(levels + 1)]


def test_without_output_convs_outputs_are_the_merged_laterals():
    module, _ = build_fpn(SPECS, out_channels=16, output_convs=False)
    assert module.output is None
    xs = feats()
    with torch.no_grad():
        outs = module(xs)
        top = module.lateral[2](xs[2])
    torch.testing.assert_close(outs[2], top)
