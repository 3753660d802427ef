"""A BiFPN-style weighted fusion whose bottom-up conv has no padding: 64 rows become 31 where P4
has 32. The weight multiplies the map, so the report must see through it to the conv."""

import torch
from torch import nn


class WeightedBiFPN(nn.Module):
    def __init__(self, in_channels, width=16):
        super().__init__()
        self.lat = nn.ModuleList(nn.Conv2d(c, width, 1) for c in in_channels)
        self.weights = nn.Parameter(torch.ones(2))
        self.down = nn.Conv2d(width, width, 3, stride=2)

    def forward(self, feats):
        p3, p4 = [conv(f) for conv, f in zip(self.lat, feats)]
        w = torch.relu(self.weights)
        p4_out = w[0] * p4 + w[1] * self.down(p3)
        return [p3, p4_out]
