"""Real timm backbones, the smallest of each family, at their usual input: the levels fpnscope
measures on meta are the ones timm's own features_only model gives on the CPU, no correct model
gets an error, and every input fpnscope proposes runs in timm's own forward and lines the levels up.

Slow (a real CPU forward of each model, and of each proposal): marked, and run by .ci/run.
"""

from __future__ import annotations

import pytest
import timm
import torch

import fpnscope as fs

# (model, built for one input size: analysed with img_size: auto, as the bundled presets do)
MODELS = [
    ("resnet18", False), ("resnet50d", False), ("resnext26ts", False), ("resnest14d", False),
    ("res2net50_48w_2s", False), ("skresnet18", False), ("regnetx_002", False), ("regnety_002", False),
    ("efficientnet_b0", False), ("mobilenetv2_100", False), ("mobilenetv3_small_100", False),
    ("ghostnet_050", False), ("tinynet_e", False), ("mnasnet_small", False), ("lcnet_035", False),
    ("rexnet_100", False), ("repvgg_a0", False), ("convnext_atto", False), ("densenet121", False),
    ("dla34", False), ("dpn48b", False), ("hrnet_w18_small", False), ("cs3darknet_s", False),
    ("cspresnet50", False), ("darknet17", False), ("ese_vovnet19b_dw", False), ("selecsls42b", False),
    ("inception_v3", False), ("inception_v4", False), ("inception_resnet_v2", False),
    ("legacy_xception", False), ("xception41", False), ("nasnetalarge", False),
    ("levit_128s", True), ("pit_ti_224", True), ("swin_tiny_patch4_window7_224", True),
    ("vit_tiny_patch16_224", True), ("pvt_v2_b0", False), ("poolformer_s12", False),
    ("efficientformerv2_s0", True), ("mobilevit_xxs", False), ("edgenext_xx_small", False),
    ("fastvit_t8", False), ("efficientvit_m0", False),
]


def real_sizes(name: str, size: tuple[int, int], fixed: bool) -> list[tuple[int, ...]]:
    """The maps timm's features_only model gives on the CPU at ``size`` (None if it refuses it)."""
    kwargs = {"img_size": size} if fixed else {}
    model = timm.create_model(name, features_only=True, pretrained=False, **kwargs).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    if str(getattr(model, "output_fmt", "NCHW")).endswith("NHWC"):
        outs = [o.permute(0, 3, 1, 2) for o in outs]
    return [tuple(o.shape) for o in outs]


def lines_up(shapes: list[tuple[int, ...]], strides: list[int]) -> bool:
    """Consecutive levels whose strides double are exact halves of each other on both sides."""
    return all(2 * c[d] == f[d] for (f, s), (c, t) in zip(zip(shapes, strides), zip(shapes[1:], strides[1:]))
               if t == 2 * s for d in (2, 3))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fixed"), MODELS, ids=[m for m, _ in MODELS])
def test_a_timm_backbone_at_its_usual_input(name, fixed):
    size = tuple(timm.get_pretrained_cfg(name).input_size[1:])
    backbone = {"kind": "timm", "name": name, **({"img_size": "auto"} if fixed else {})}
    report = fs.inspect({"backbone": backbone, "neck": {"kind": "fpn", "out_channels": 32},
                         "input": {"height": size[0], "width": size[1]}})
    assert [lvl.shape for lvl in report.backbone_levels] == real_sizes(name, size, fixed)
    strides = [lvl.stride for lvl in report.backbone_levels]
    info = timm.create_model(name, features_only=True, pretrained=False,
                             **({"img_size": size} if fixed else {})).feature_info.reduction()
    assert strides == list(info)  # timm's own strides, Inception's valid padding included
    errors = [f.message for f in report.diagnostics if f.severity == "error"]
    assert errors == []
    if report.corrected and "input" in report.corrected:
        proposed = (report.corrected["input"]["height"], report.corrected["input"]["width"])
        assert proposed != size  # never the input it was given
        shapes = real_sizes(name, proposed, fixed)
        assert lines_up(shapes, strides), (proposed, shapes)


def test_a_model_that_needs_img_size_and_a_padded_input_is_told_both():
    # MaxViT at 800x1333: timm's shortcut pools 667 columns to 333 where the conv path has 334, and
    # timm built it for 256; img_size: auto alone fails at 800x1333, and with 800x1344 it runs
    report = fs.inspect({"backbone": {"kind": "timm", "name": "maxvit_nano_rw_256"}, "neck": {"kind": "fpn", "out_channels": 32}},
                        input=(800, 1333))
    (finding,) = report.diagnostics
    assert finding.code == "forward-error" and finding.facts.get("together") is True
    assert report.corrected == {"backbone": {"img_size": "auto"}, "input": {"height": 800, "width": 1344}}
    assert "add img_size: auto to the backbone and use an input of 800x1344" in finding.hint
    fixed = fs.inspect({"backbone": {"kind": "timm", "name": "maxvit_nano_rw_256", "img_size": "auto"},
                        "neck": {"kind": "fpn", "out_channels": 32}}, input=(800, 1344))
    assert fixed.stopped_at is None and not [f for f in fixed.diagnostics if f.severity == "error"]
