"""Faster R-CNN's region proposal head (Ren et al. 2015), as torchvision's ``RPNHead``."""

from __future__ import annotations

from torch import Tensor, nn

from fpnscope.models.blocks import ConvNormAct


class RPNHead(nn.Module):
    """``conv_depth`` shared 3x3 conv + ReLU, then 1x1 convs to ``A`` objectness logits and ``4A``
    anchor deltas, applied to every level with the same weights.

    Outputs ``objectness`` and ``anchor_deltas``, one map per level. torchvision's Faster R-CNN:
    256 channels, 3 anchors per location, one conv: 593,935 parameters.

    >>> sum(p.numel() for p in RPNHead(channels=256, num_anchors=3, conv_depth=1).parameters())
    593935
    """

    def __init__(self, *, channels: int, num_anchors: int, conv_depth: int) -> None:
        super().__init__()
        # torchvision's Conv2dNormActivation with norm_layer=None: a conv with a bias, then ReLU
        self.conv = nn.Sequential(*(ConvNormAct(channels, channels, 3, act="relu") for _ in range(conv_depth)))
        self.objectness = nn.Conv2d(channels, num_anchors, 1)
        self.deltas = nn.Conv2d(channels, 4 * num_anchors, 1)
        for m in self.modules():  # torchvision's init
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, levels: list[Tensor]) -> dict[str, list[Tensor]]:
        feats = [self.conv(x) for x in levels]
        return {"objectness": [self.objectness(f) for f in feats], "anchor_deltas": [self.deltas(f) for f in feats]}
