"""torchvision's ResNet family as a C2..C5 feature extractor."""

from __future__ import annotations

from collections.abc import Sequence

import torchvision
from torch import Tensor, nn
from torchvision.ops.misc import FrozenBatchNorm2d

from fpnscope.config.backbones import TorchvisionBackbone
from fpnscope.models.context import BuildContext
from fpnscope.spec import LevelSpec

LAYER_STRIDES = {1: 4, 2: 8, 3: 16, 4: 32}


def layer_strides(output_stride: int) -> dict[int, int]:
    """Stride of each of layer1..layer4 when the stages past ``output_stride`` are dilated.

    >>> layer_strides(16)
    {1: 4, 2: 8, 3: 16, 4: 16}
    """
    return {i: min(s, output_stride) for i, s in LAYER_STRIDES.items()}


def dilated_stages(output_stride: int) -> list[bool]:
    """torchvision's ``replace_stride_with_dilation`` for an output stride (16: the last stage).

    >>> dilated_stages(32), dilated_stages(16), dilated_stages(8)
    ([False, False, False], [False, False, True], [False, True, True])
    """
    # layer2..layer4 have strides 8, 16, 32; each past the output stride is dilated instead
    return [stride > output_stride for stride in (8, 16, 32)]


class ResNetFeatures(nn.Module):
    """The stem and ``layer1``..``layerN`` of a torchvision ResNet, returning the chosen layers.

    Layers after the last returned one and the classifier are dropped, as torchvision's
    ``IntermediateLayerGetter`` does, so parameter counts match ``resnet_fpn_backbone``.
    """

    def __init__(self, resnet: torchvision.models.ResNet, returned_layers: Sequence[int]) -> None:
        super().__init__()
        self.returned = list(returned_layers)
        self.conv1: nn.Module = resnet.conv1
        self.bn1: nn.Module = resnet.bn1
        self.relu: nn.Module = resnet.relu
        self.maxpool: nn.Module = resnet.maxpool
        self.depth = max(self.returned)
        for i in range(1, self.depth + 1):
            self.add_module(f"layer{i}", getattr(resnet, f"layer{i}"))

    def forward(self, x: Tensor) -> list[Tensor]:
        """Feature maps of the returned layers, finest first."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i in range(1, self.depth + 1):
            layer: nn.Module = getattr(self, f"layer{i}")
            x = layer(x)
            if i in self.returned:
                outs.append(x)
        return outs


def _out_channels(layer: nn.Module) -> int:
    """Channels a ResNet stage gives: those of its last conv (the Bottleneck's conv3, the
    BasicBlock's conv2)."""
    convs = [m for m in layer.modules() if isinstance(m, nn.Conv2d)]
    return int(convs[-1].out_channels)


def build_torchvision(
    cfg: TorchvisionBackbone, context: BuildContext = BuildContext()
) -> tuple[ResNetFeatures, list[LevelSpec]]:
    """Build ``torchvision.models.<name>`` with random weights and wrap it.

    >>> _, specs = build_torchvision(TorchvisionBackbone(kind="torchvision", name="resnet18"))
    >>> [(s.name, s.channels) for s in specs]
    [('C2', 64), ('C3', 128), ('C4', 256), ('C5', 512)]
    """
    norm_layer = FrozenBatchNorm2d if cfg.norm == "frozen_bn" else nn.BatchNorm2d
    resnet = getattr(torchvision.models, cfg.name)(
        weights=None, norm_layer=norm_layer, replace_stride_with_dilation=dilated_stages(cfg.output_stride)
    )
    module = ResNetFeatures(resnet, cfg.returned_layers)
    strides = layer_strides(cfg.output_stride)
    specs = [
        LevelSpec.of("C", _out_channels(getattr(module, f"layer{i}")), strides[i]) for i in cfg.returned_layers
    ]
    return module, _unique_names(specs)


def _unique_names(specs: list[LevelSpec]) -> list[LevelSpec]:
    """Dilated stages share a stride, hence a name: the second ``C4`` is ``C4_1``, as measured levels are."""
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        count = seen.get(spec.name, 0)
        seen[spec.name] = count + 1
        out.append(LevelSpec(f"{spec.name}_{count}", spec.channels, spec.stride) if count else spec)
    return out
