"""DeepLabV3+ (ASPP against torchvision, the decoder against a transcription, the dilated
backbone against torchvision's) and the dense regression head against detectron2's Panoptic FPN
semantic head."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet50
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP

from fpnscope.analysis.inspect import inspect_model
from fpnscope.config.backbones import TorchvisionBackbone
from fpnscope.models.backbones.from_torchvision import build_torchvision
from fpnscope.models.heads.deeplab import build_deeplabv3plus_head
from fpnscope.models.heads.dense import build_dense_head
from fpnscope.spec import LevelSpec
from tests.helpers import load_config
from tests.reference import macs, n_params, randomize

C2_C5_OS16 = [LevelSpec("P2", 256, 4), LevelSpec("P4", 2048, 16)]
P2_P5 = [LevelSpec.of("P", 256, 2**i) for i in range(2, 6)]
ASPP_PARAMS, DECODER_PARAMS = 15_535_104, 1_309_045


def aspp_key(key: str) -> str:
    """torchvision's ``convs.i`` (i < 4) -> ``branches.i``; the pooling branch ``convs.4.{1,2}`` -> ``pool.1``."""
    conv_norm = {"0": "conv", "1": "norm"}
    if m := re.match(r"^convs\.4\.([12])\.(.*)$", key):
        return f"aspp.pool.1.{('conv', 'norm')[int(m[1]) - 1]}.{m[2]}"
    if m := re.match(r"^convs\.(\d)\.([01])\.(.*)$", key):
        return f"aspp.branches.{m[1]}.{conv_norm[m[2]]}.{m[3]}"
    m = re.match(r"^project\.([01])\.(.*)$", key)
    assert m, key
    return f"aspp.project.{conv_norm[m[1]]}.{m[2]}"


def test_aspp_equals_torchvision():
    ref = randomize(TorchvisionASPP(2048, [6, 12, 18], 256)).eval()
    head = build_deeplabv3plus_head(C2_C5_OS16).eval()
    assert n_params(head.aspp) == n_params(ref) == ASPP_PARAMS
    state = {k: v for k, v in head.state_dict().items() if not k.startswith("aspp.")}
    head.load_state_dict({**state, **{aspp_key(k): v for k, v in ref.state_dict().items()}}, strict=True)
    x = torch.randn(2, 2048, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(head.aspp(x), ref(x), atol=1e-4, rtol=1e-4)


def test_decoder_equals_a_functional_transcription():
    head = randomize(build_deeplabv3plus_head(C2_C5_OS16, num_classes=5)).eval()
    decoder = (256 * 48 + 2 * 48) + (304 * 256 * 9 + 2 * 256) + (256 * 256 * 9 + 2 * 256) + (256 * 5 + 5)
    assert n_params(head) - n_params(head.aspp) == decoder
    low, high = torch.randn(1, 256, 16, 16), torch.randn(1, 2048, 4, 4)

    def cbr(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        conv, bn = block.conv, block.norm
        y = F.conv2d(x, conv.weight, None, 1, conv.padding, conv.dilation)
        return F.relu(F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps))

    with torch.no_grad():
        out = head([low, high])["seg"]
        aspp = F.interpolate(head.aspp(high), size=(16, 16), mode="bilinear", align_corners=False)
        y = torch.cat([aspp, cbr(head.reduce, low)], dim=1)  # ASPP first, then the 48 low-level channels
        y = F.conv2d(cbr(head.fuse[1], cbr(head.fuse[0], y)), head.classifier.weight, head.classifier.bias)
        expected = F.interpolate(y, size=(64, 64), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, expected)


def test_output_stride_16_backbone_equals_torchvision_dilated_resnet():
    ours, specs = build_torchvision(TorchvisionBackbone(name="resnet50", returned_layers=[1, 4], output_stride=16))
    assert [(s.name, s.channels, s.stride) for s in specs] == [("C2", 256, 4), ("C4", 2048, 16)]
    net = randomize(resnet50(weights=None, replace_stride_with_dilation=[False, False, True]))
    ref = IntermediateLayerGetter(net, {"layer1": "c2", "layer4": "c5"}).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        got, expected = ours.eval()(x), list(ref(x).values())
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    assert got[1].shape[-2:] == (4, 6)  # 64x96 / 16
    _, all_four = build_torchvision(TorchvisionBackbone(name="resnet50", output_stride=8))
    assert [s.name for s in all_four] == ["C2", "C3", "C3_1", "C3_2"]  # shared strides, named as measured


def test_deeplabv3plus_preset_has_no_stride_finding_and_upsamples_to_the_input():
    report = inspect_model(load_config("deeplabv3plus_r50", ["input.height=128", "input.width=160"]))
    assert report.diagnostics == []
    assert [(lvl.name, lvl.stride, lvl.channels) for lvl in report.backbone_levels] == [("C2", 4, 256), ("C4", 16, 2048)]
    assert report.params.head == ASPP_PARAMS + DECODER_PARAMS == 16_844_149  # DECODER_PARAMS: 21 classes
    assert [h.shape for h in report.head_outputs] == [(1, 21, 128, 160)]


def test_resnet18_cannot_be_dilated():
    with pytest.raises(ValueError, match="BasicBlocks"):
        TorchvisionBackbone(name="resnet18", output_stride=16)


class SemSegFPNHead(nn.Module):
    """detectron2's ``SemSegFPNHead`` (Panoptic FPN's semantic branch), transcribed: detectron2 is not
    installed here. Conv2d without bias + GroupNorm(32) + ReLU, x2 bilinear upsamples, summed, 1x1."""

    def __init__(self, strides: list[int], conv_dims: int, num_classes: int) -> None:
        super().__init__()
        self.scale_heads = nn.ModuleList()
        for s in strides:
            ops: list[nn.Module] = []
            for k in range(max(1, int(torch.log2(torch.tensor(s / 4)).item()))):
                ops += [nn.Conv2d(256 if k == 0 else conv_dims, conv_dims, 3, 1, 1, bias=False),
                        nn.GroupNorm(32, conv_dims), nn.ReLU()]
                if s != 4:
                    ops.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
            self.scale_heads.append(nn.Sequential(*ops))
        self.predictor = nn.Conv2d(conv_dims, num_classes, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = self.scale_heads[0](features[0])
        for head, f in zip(self.scale_heads[1:], features[1:]):
            x = x + head(f)
        return F.interpolate(self.predictor(x), scale_factor=4, mode="bilinear", align_corners=False)


def copy_from_detectron2(ours: nn.Module, ref: SemSegFPNHead) -> None:
    """detectron2's ``scale_heads.i`` (conv, GN, ReLU[, upsample] repeated) -> ``scales.i.j.{conv,norm}``."""
    state = {"pred.weight": ref.predictor.weight, "pred.bias": ref.predictor.bias}
    for i, (theirs, mine) in enumerate(zip(ref.scale_heads, ours.scales)):
        convs = [m for m in theirs if isinstance(m, nn.Conv2d)]
        norms = [m for m in theirs if isinstance(m, nn.GroupNorm)]
        blocks = [j for j, m in enumerate(mine) if not isinstance(m, nn.Upsample)]
        for conv, norm, j in zip(convs, norms, blocks, strict=True):
            state.update({f"scales.{i}.{j}.conv.weight": conv.weight, f"scales.{i}.{j}.norm.weight": norm.weight,
                          f"scales.{i}.{j}.norm.bias": norm.bias})
    ours.load_state_dict(state, strict=True)


def test_dense_head_equals_panoptic_fpn_semantic_head():
    ref = randomize(SemSegFPNHead([4, 8, 16, 32], 128, 54)).eval()
    ours = build_dense_head(P2_P5, out_channels=54, output_act="none", output_name="sem_seg").eval()
    assert n_params(ours) == n_params(ref) == 1_630_774
    copy_from_detectron2(ours, ref)
    levels = [torch.randn(1, 256, 64 // s, 96 // s) for s in (4, 8, 16, 32)]
    with torch.no_grad():
        out = ours(levels)["sem_seg"]
        torch.testing.assert_close(out, ref(levels), atol=1e-5, rtol=1e-5)
    assert out.shape == (1, 54, 64, 96) and macs(ours, levels) == macs(ref, levels)


@pytest.mark.parametrize(("act", "holds"), [("softplus", lambda y: (y > 0).all()), ("sigmoid", lambda y: ((y > 0) & (y < 1)).all()),
                                            ("relu", lambda y: (y >= 0).all())])
def test_dense_head_output_activation(act, holds):
    head = randomize(build_dense_head(P2_P5, head_convs=1, output_act=act)).eval()
    levels = [torch.randn(2, 256, 33 // s + 1, 50 // s + 1) for s in (4, 8, 16, 32)]  # odd sizes: x2 steps overshoot
    with torch.no_grad():
        y = head(levels)["depth"]
    assert y.shape == (2, 1, 36, 52) and bool(holds(y))
    flow = build_dense_head(P2_P5, head_convs=1, out_channels=2, output_act="none")
    assert n_params(flow) == 1_623_808 + (128 * 128 * 9 + 256) + (128 * 2 + 2)


def test_pvt_v2_b2_depth_preset():
    report = inspect_model(load_config("pvt_v2_b2_depth", ["input.height=128", "input.width=160"]))
    assert report.diagnostics == []
    assert [h.name for h in report.head_outputs] == ["depth"] and report.head_outputs[0].shape == (1, 1, 128, 160)
    assert report.params.head == 1_623_808 + 128 + 1  # Panoptic FPN's fusion, then 1x1 to one channel
