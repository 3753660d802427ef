"""Backbone adapters: declared specs, real outputs, and the errors a user can hit."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torchvision

from fpnscope.config.schema import PythonBackbone, SyntheticBackbone, TimmBackbone, TorchvisionBackbone
from fpnscope.errors import BuildError
from fpnscope.models.assemble import build_backbone
from fpnscope.spec import LevelSpec


def run(module: torch.nn.Module, height: int, width: int) -> list[torch.Tensor]:
    module.eval()
    with torch.no_grad():
        return module(torch.randn(1, 3, height, width))


def assert_matches(specs: list[LevelSpec], outs: list[torch.Tensor], height: int, width: int) -> None:
    assert len(specs) == len(outs)
    for spec, out in zip(specs, outs):
        assert out.shape[1] == spec.channels
        assert out.shape[-2:] == (-(-height // spec.stride), -(-width // spec.stride))


def test_timm_declared_specs_match_real_outputs():
    module, specs = build_backbone(TimmBackbone(kind="timm", name="resnet18", out_indices=[1, 2, 3, 4]))
    assert [s.name for s in specs] == ["C2", "C3", "C4", "C5"]
    assert [s.channels for s in specs] == [64, 128, 256, 512]
    assert_matches(specs, run(module, 96, 130), 96, 130)


def test_timm_channels_last_outputs_become_nchw():
    # Swin's timm feature maps are NHWC; the adapter hands necks NCHW.
    cfg = TimmBackbone(kind="timm", name="swin_tiny_patch4_window7_224", kwargs={"img_size": [224, 224]})
    with torch.device("meta"):
        module, specs = build_backbone(cfg)
    assert module.channels_last
    outs = module(torch.empty(1, 3, 224, 224, device="meta"))
    assert [tuple(o.shape) for o in outs] == [(1, 96, 56, 56), (1, 192, 28, 28), (1, 384, 14, 14), (1, 768, 7, 7)]
    assert [s.channels for s in specs] == [96, 192, 384, 768]


def test_timm_unknown_model_suggests_names():
    with pytest.raises(BuildError, match=r"timm has no model 'resnet5'; did you mean 'resnet50'"):
        build_backbone(TimmBackbone(kind="timm", name="resnet5"))


def test_timm_bad_out_indices_is_a_build_error():
    with pytest.raises(BuildError, match=r"could not build 'resnet18'.*out_indices \[9\]"):
        build_backbone(TimmBackbone(kind="timm", name="resnet18", out_indices=[9]))


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2"])
def test_torchvision_params_equal_the_reference_without_classifier(name):
    module, specs = build_backbone(TorchvisionBackbone(kind="torchvision", name=name))
    ref = getattr(torchvision.models, name)(weights=None)
    expected = sum(p.numel() for n, p in ref.named_parameters() if not n.startswith("fc."))
    assert sum(p.numel() for p in module.parameters()) == expected
    assert [s.stride for s in specs] == [4, 8, 16, 32]


def test_torchvision_returned_layers_and_frozen_bn():
    module, specs = build_backbone(
        TorchvisionBackbone(kind="torchvision", name="resnet18", returned_layers=[2, 3], norm="frozen_bn")
    )
    assert [s.name for s in specs] == ["C3", "C4"]
    assert not hasattr(module, "layer4")  # layers after the last returned one are dropped
    assert not any("bn" in n for n, _ in module.named_parameters())  # frozen: buffers only
    assert_matches(specs, run(module, 64, 90), 64, 90)


def test_synthetic_sizes_and_rounding():
    for rounding, expected in (("ceil", (100, 167)), ("floor", (100, 166))):
        module, specs = build_backbone(
            SyntheticBackbone(kind="synthetic", channels=[8], strides=[8], rounding=rounding)
        )
        (out,) = module(torch.empty(2, 3, 800, 1333))
        assert out.shape == (2, 8, *expected)
        assert out.std() > 0  # random, not zeros
        assert specs == [LevelSpec("C3", 8, 8)]
    assert sum(p.numel() for p in module.parameters()) == 0


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "mybackbones.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Two(nn.Module):
                def __init__(self, width=8, declare=False):
                    super().__init__()
                    self.a = nn.Conv2d(3, width, 3, stride=4, padding=1)
                    self.b = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
                    if declare:
                        self.feature_info = [{"num_chs": width, "reduction": 4},
                                             {"num_chs": 2 * width, "reduction": 8}]

                def forward(self, x):
                    a = self.a(x)
                    return {"p": a, "q": self.b(a)}

            def make(**kw):
                return Two(**kw)

            NOT_A_MODULE = 3
            def returns_none():
                return None
            def broken():
                raise RuntimeError("no weights here")
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import sys

    sys.modules.pop("mybackbones", None)


def test_python_backbone_dict_output_and_declarations(user_module):
    module, specs = build_backbone(PythonBackbone(kind="python", target="mybackbones:make", kwargs={"width": 4}))
    assert specs is None  # nothing declared: it will be measured
    outs = run(module, 64, 64)
    assert list(outs) == ["p", "q"]  # the user's module as it is: the measurement keeps the keys
    assert [tuple(o.shape) for o in outs.values()] == [(1, 4, 16, 16), (1, 8, 8, 8)]
    _, declared = build_backbone(
        PythonBackbone(kind="python", target="mybackbones:make", kwargs={"declare": True})
    )
    assert declared == [LevelSpec("C2", 8, 4), LevelSpec("C3", 16, 8)]
    _, from_yaml = build_backbone(
        PythonBackbone(kind="python", target="mybackbones:make", channels=[8, 16], strides=[4, 8])
    )
    assert from_yaml == declared


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nosuchmodule:make", "cannot import 'nosuchmodule'"),
        ("mybackbones:missing", "has no attribute 'missing'"),
        ("mybackbones:NOT_A_MODULE", "is not callable"),
        ("mybackbones:returns_none", "returned NoneType, not a torch.nn.Module"),
    ],
)
def test_python_backbone_errors(user_module, target, message):
    cfg = PythonBackbone(kind="python", target=target)
    with pytest.raises(BuildError, match=message):
        build_backbone(cfg)


def test_a_factory_that_raises_is_reported_with_its_line(user_module, cli, write_yaml):
    path = write_yaml("broken.yaml", {"backbone": {"kind": "python", "target": "mybackbones:broken"},
                                      "neck": {"kind": "fpn"}})
    result = cli("inspect", str(path), "--allow-python")
    assert result.exit_code == 2
    assert "RuntimeError: no weights here" in result.stderr and "mybackbones.py:" in result.stderr


def test_timm_out_indices_out_of_range_are_told_the_levels_there_are(cli, write_yaml):
    path = write_yaml("oi.yaml", "backbone: {kind: timm, name: resnet18, out_indices: [1, 2, 5]}\n"
                                 "neck: {kind: fpn, out_channels: 32}\ninput: {height: 128, width: 128}\n")
    result = cli("inspect", str(path))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "out_indices are 0 to 4 for it (0: stride 2, 64 channels · 1: stride 4, 64 channels" in result.stderr
