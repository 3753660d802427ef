"""Every neck kind: names, shapes, strides and channels for several level sets and odd sizes, and
parameter counts against closed-form formulas derived here."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from fpnscope.errors import BuildError
from fpnscope.models.necks.bifpn import build_bifpn
from fpnscope.models.necks.channel_mapper import build_channel_mapper
from fpnscope.models.necks.fpn import build_fpn
from fpnscope.models.necks.identity import build_identity
from fpnscope.models.necks.pafpn import build_pafpn
from fpnscope.models.necks.simple_fpn import build_simple_fpn
from fpnscope.models.necks.yolo_pan import build_yolo_pan
from fpnscope.spec import LevelSpec

SIZES = [(97, 131), (128, 128), (200, 333)]
LEVEL_SETS = {
    "C2-C5": [(64, 4), (128, 8), (256, 16), (512, 32)],
    "C3-C5": [(40, 8), (112, 16), (320, 32)],
    "C4-C5": [(24, 16), (48, 32)],
}


def specs_of(levels: list[tuple[int, int]]) -> list[LevelSpec]:
    return [LevelSpec.of("C", c, s) for c, s in levels]


def feats(levels: list[tuple[int, int]], height: int, width: int) -> list[torch.Tensor]:
    """Maps sized as a conv stack sizes them: ceil(input / stride)."""
    return [torch.randn(1, c, math.ceil(height / s), math.ceil(width / s)) for c, s in levels]


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def run(module: nn.Module, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    module.eval()
    with torch.no_grad():
        return module(xs)


def ceil_sizes(height: int, width: int, strides: list[int]) -> list[tuple[int, int]]:
    return [(math.ceil(height / s), math.ceil(width / s)) for s in strides]


def conv(cin: int, cout: int, k: int, norm: bool) -> int:
    """A conv followed by a norm (2·cout, no bias) or not (bias)."""
    return cin * cout * k * k + (2 * cout if norm else cout)


# --- fpn fusion and attention ------------------------------------------------------------------


def fpn_base(cin: list[int], d: int) -> int:
    return sum(conv(c, d, 1, False) for c in cin) + len(cin) * conv(d, d, 3, False)


def se(d: int) -> int:
    h = d // 16
    return d * h + h + h * d + d


@pytest.mark.parametrize("levels", LEVEL_SETS.values(), ids=LEVEL_SETS.keys())
@pytest.mark.parametrize(
    ("fusion", "attention", "extra_per_merge", "per_level"),
    [
        ("sum", "none", lambda d: 0, lambda d: 0),
        ("weighted", "none", lambda d: 2, lambda d: 0),
        ("concat", "none", lambda d: 2 * d * d + d, lambda d: 0),
        ("sum", "se", lambda d: 0, se),
        ("sum", "cbam", lambda d: 0, lambda d: se(d) + 2 * 49 + 2),
    ],
)
def test_fpn_variants(levels, fusion, attention, extra_per_merge, per_level):
    d = 32
    module, out = build_fpn(specs_of(levels), out_channels=d, fusion=fusion, attention=attention)
    cin = [c for c, _ in levels]
    merges = len(levels) - 1
    assert params(module) == fpn_base(cin, d) + merges * extra_per_merge(d) + len(levels) * per_level(d)
    for height, width in SIZES:
        ys = run(module, feats(levels, height, width))
        assert [tuple(y.shape[-2:]) for y in ys] == ceil_sizes(height, width, [s for _, s in levels])
        assert all(y.shape[1] == d for y in ys)
    assert [s.name for s in out] == [f"P{int(math.log2(s))}" for _, s in levels]


def test_weighted_fusion_weights_are_learned_parameters():
    module, _ = build_fpn(specs_of(LEVEL_SETS["C3-C5"]), out_channels=16, fusion="weighted")
    weights = [m.weight for m in module.fuse]
    assert [w.shape for w in weights] == [(2,), (2,)]
    assert all(w.requires_grad for w in weights)


# --- pafpn --------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", LEVEL_SETS.values(), ids=LEVEL_SETS.keys())
@pytest.mark.parametrize("norm", ["none", "gn"])
def test_pafpn(levels, norm):
    d = 32
    module, out = build_pafpn(specs_of(levels), out_channels=d, norm=norm, gn_groups=8, extra_levels={"count": 1})
    cin = [c for c, _ in levels]
    has_norm = norm != "none"
    fpn = sum(conv(c, d, 1, has_norm) for c in cin) + len(cin) * conv(d, d, 3, has_norm)
    bottom_up = (len(cin) - 1) * 2 * conv(d, d, 3, has_norm)  # stride-2 conv and 3x3 conv per level
    assert params(module) == fpn + bottom_up
    strides = [s for _, s in levels] + [levels[-1][1] * 2]
    for height, width in SIZES:
        ys = run(module, feats(levels, height, width))
        assert [tuple(y.shape[-2:]) for y in ys] == ceil_sizes(height, width, strides)
    assert out[-1].stride == strides[-1]


def test_pafpn_bottom_up_changes_the_output():
    specs = specs_of(LEVEL_SETS["C3-C5"])
    torch.manual_seed(0)
    pa, _ = build_pafpn(specs, out_channels=16)
    plain, _ = build_fpn(specs, out_channels=16)
    plain.load_state_dict({k: v for k, v in pa.state_dict().items() if k in plain.state_dict()})
    xs = feats(LEVEL_SETS["C3-C5"], 64, 64)
    a, b = run(pa, xs), run(plain, xs)
    torch.testing.assert_close(a[0], b[0])  # the finest level has nothing below it
    assert not torch.allclose(a[-1], b[-1])


# --- bifpn --------------------------------------------------------------------------------------


def bifpn_params(cin: list[int], w: int, repeats: int, extra: int, separable: bool = True) -> int:
    """Per node: a 1x1 conv + BN for each input narrower or wider than W, one weight per input,
    then a (separable) 3x3 conv + BN. Extra levels: one 1x1 conv + BN if C_last != W."""
    node_conv = (9 * w + w * w + 2 * w) if separable else (9 * w * w + 2 * w)

    def resample(c: int) -> int:
        return 0 if c == w else c * w + 2 * w

    total = resample(cin[-1]) if extra else 0
    channels = cin + [w] * extra
    levels = len(channels)
    for r in range(repeats):
        ch = channels if r == 0 else [w] * levels
        for i in range(levels - 1):  # top-down nodes: the level's input and the node above
            above = ch[-1] if i + 1 == levels - 1 else w
            total += resample(ch[i]) + resample(above) + 2 + node_conv
        for i in range(1, levels):  # bottom-up nodes
            n = 3 if i < levels - 1 else 2
            total += resample(ch[i]) + n + node_conv
    return total


def test_bifpn_d0_matches_effdet():
    # rwightman's effdet `efficientdet_d0` BiFPN has 194,361 parameters (3,877,763 in all).
    module, out = build_bifpn(specs_of(LEVEL_SETS["C3-C5"]), width=64, repeats=3, extra_levels={"count": 2})
    assert params(module) == bifpn_params([40, 112, 320], 64, 3, 2) == 194_361
    assert [s.name for s in out] == ["P3", "P4", "P5", "P6", "P7"]


@pytest.mark.parametrize("levels", LEVEL_SETS.values(), ids=LEVEL_SETS.keys())
@pytest.mark.parametrize(("extra", "separable", "fusion"), [(2, True, "fast"), (0, False, "softmax"), (1, True, "sum")])
def test_bifpn_level_sets(levels, extra, separable, fusion):
    w = 32
    module, out = build_bifpn(specs_of(levels), width=w, repeats=2, extra_levels={"count": extra} if extra else None, fusion=fusion, separable=separable)
    expected = bifpn_params([c for c, _ in levels], w, 2, extra, separable)
    if fusion == "sum":  # no fusion weights at all
        expected -= sum(len(n.resample) for n in module.modules() if hasattr(n, "resample"))
    assert params(module) == expected
    strides = [s for _, s in levels] + [levels[-1][1] * 2 ** (i + 1) for i in range(extra)]
    for height, width in SIZES:
        ys = run(module, feats(levels, height, width))
        assert [tuple(y.shape[-2:]) for y in ys] == ceil_sizes(height, width, strides)
        assert all(y.shape[1] == w for y in ys)
    assert [s.stride for s in out] == strides


# --- yolo_pan -----------------------------------------------------------------------------------


def c2f(c1: int, c2: int, n: int) -> int:
    c = c2 // 2
    return conv(c1, 2 * c, 1, True) + n * 2 * conv(c, c, 3, True) + conv((2 + n) * c, c2, 1, True)


def yolo_pan_params(c3: int, c4: int, c5: int, w3: int, w4: int, w5: int, n: int) -> int:
    return (
        c2f(c5 + c4, w4, n) + c2f(w4 + c3, w3, n) + conv(w3, w3, 3, True) + c2f(w3 + w4, w4, n)
        + conv(w4, w4, 3, True) + c2f(w4 + c5, w5, n)
    )


@pytest.mark.parametrize(
    ("scale", "inputs", "widths", "n"),
    [
        ((0.25, 0.33), (64, 128, 256), (64, 128, 256), 1),  # YOLOv8-n
        ((0.50, 0.33), (128, 256, 512), (128, 256, 512), 1),  # YOLOv8-s
        ((0.75, 0.67), (192, 384, 576), (192, 384, 576), 2),  # YOLOv8-m (max_channels 768)
    ],
)
def test_yolo_pan_scales(scale, inputs, widths, n):
    width, depth = scale
    max_channels = 768 if width == 0.75 else 1024
    levels = list(zip(inputs, (8, 16, 32)))
    module, out = build_yolo_pan(specs_of(levels), channels=(256, 512, 1024), width_multiple=width, depth_multiple=depth, max_channels=max_channels)
    assert [s.channels for s in out] == list(widths)
    assert params(module) == yolo_pan_params(*inputs, *widths, n)
    for height, width_ in SIZES:
        ys = run(module, feats(levels, height, width_))
        assert [tuple(y.shape[-2:]) for y in ys] == ceil_sizes(height, width_, [8, 16, 32])


def test_yolov8n_neck_matches_ultralytics():
    # ultralytics YOLOv8-n, layers 10..21 of yolov8.yaml: 986,880 parameters.
    module, _ = build_yolo_pan(specs_of([(64, 8), (128, 16), (256, 32)]))
    assert params(module) == 986_880


def test_yolo_pan_needs_three_levels():
    with pytest.raises(BuildError, match="exactly three"):
        build_yolo_pan(specs_of(LEVEL_SETS["C2-C5"]))


# --- simple_fpn ---------------------------------------------------------------------------------


def simple_fpn_params(dim: int, d: int, scales: list[float]) -> int:
    total = 0
    for scale in scales:
        if scale == 4.0:
            total += dim * (dim // 2) * 4 + dim // 2 + 2 * (dim // 2) + (dim // 2) * (dim // 4) * 4 + dim // 4
            out = dim // 4
        elif scale == 2.0:
            total += dim * (dim // 2) * 4 + dim // 2
            out = dim // 2
        else:
            out = dim
        total += conv(out, d, 1, True) + conv(d, d, 3, True)
    return total


@pytest.mark.parametrize("scales", [[4.0, 2.0, 1.0, 0.5], [2.0, 1.0], [1.0, 0.5]])
@pytest.mark.parametrize("size", [(96, 160), (128, 128), (224, 320)])
def test_simple_fpn(scales, size):
    dim, d = 64, 32
    module, out = build_simple_fpn([LevelSpec("C4", dim, 16)], out_channels=d, scale_factors=scales, extra_levels={"count": 1})
    assert params(module) == simple_fpn_params(dim, d, scales)
    height, width = size
    (x,) = feats([(dim, 16)], height, width)
    ys = run(module, [x])
    h, w = x.shape[-2:]
    expected = [(int(h * s), int(w * s)) for s in scales]
    expected.append(((expected[-1][0] + 1) // 2, (expected[-1][1] + 1) // 2))
    assert [tuple(y.shape[-2:]) for y in ys] == expected
    assert [s.stride for s in out] == [int(16 / s) for s in scales] + [int(32 / scales[-1])]


def test_vitdet_b_pyramid_params():
    # ViT-B (768 channels) to 256: the closed form gives 5,560,000 parameters.
    module, _ = build_simple_fpn([LevelSpec("C4", 768, 16)], out_channels=256)
    assert params(module) == simple_fpn_params(768, 256, [4.0, 2.0, 1.0, 0.5]) == 5_560_000


# --- channel_mapper and identity ----------------------------------------------------------------


@pytest.mark.parametrize("levels", LEVEL_SETS.values(), ids=LEVEL_SETS.keys())
@pytest.mark.parametrize(("kernel", "extra"), [(1, 0), (3, 1), (1, 2)])
def test_channel_mapper(levels, kernel, extra):
    d = 32
    module, out = build_channel_mapper(specs_of(levels), out_channels=d, kernel_size=kernel, gn_groups=8, extra_levels={"count": extra, "mode": "conv", "source": "c5"} if extra else None)
    cin = [c for c, _ in levels]
    expected = sum(conv(c, d, kernel, True) for c in cin)
    if extra:
        expected += conv(cin[-1], d, 3, True) + (extra - 1) * conv(d, d, 3, True)
    assert params(module) == expected
    strides = [s for _, s in levels] + [levels[-1][1] * 2 ** (i + 1) for i in range(extra)]
    for height, width in SIZES:
        ys = run(module, feats(levels, height, width))
        assert [tuple(y.shape[-2:]) for y in ys] == ceil_sizes(height, width, strides)
    assert [s.channels for s in out] == [d] * len(strides)


def test_identity_passes_levels_through():
    levels = LEVEL_SETS["C2-C5"]
    module, out = build_identity(specs_of(levels))
    xs = feats(levels, 64, 64)
    assert all(a is b for a, b in zip(run(module, xs), xs))
    assert [s.name for s in out] == ["P2", "P3", "P4", "P5"] and params(module) == 0
