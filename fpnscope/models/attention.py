"""Attention applied to a pyramid level: squeeze-and-excitation and CBAM."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SqueezeExcite(nn.Module):
    """SE (Hu et al. 2018): global average pool, 1x1 conv to C/r, ReLU, 1x1 conv to C, sigmoid, scale.

    >>> sum(p.numel() for p in SqueezeExcite(256).parameters())  # 256*16+16 + 16*256+256
    8464
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))


class CBAM(nn.Module):
    """CBAM (Woo et al. 2018): channel attention from average- and max-pooled descriptors through a
    shared MLP, then spatial attention from a 7x7 conv (+ BN) over the channel mean and max.

    >>> sum(p.numel() for p in CBAM(256).parameters())  # MLP 8464 + conv 98 + BN 2
    8564
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1))
        self.spatial = nn.Sequential(
            nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False), nn.BatchNorm2d(1)
        )
        self.gate = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        x = x * self.gate(avg + peak)
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * self.gate(self.spatial(pooled))


def make_attention(kind: str, channels: int) -> nn.Module:
    """``se`` / ``cbam`` -> the module, ``none`` -> Identity."""
    if kind == "se":
        return SqueezeExcite(channels)
    if kind == "cbam":
        return CBAM(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown attention {kind!r}")
