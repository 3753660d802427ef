"""A PANet-style neck whose bottom-up path halves with a max-pool, which rounds down: at 800x1333
P3 is 167 columns wide, pooled to 83, while P4 is 84."""

import torch.nn.functional as F
from torch import nn


class PooledPAN(nn.Module):
    def __init__(self, in_channels, out_channels=32):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, out_channels, 1) for c in in_channels])
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, feats):
        lat = [conv(f) for conv, f in zip(self.lateral, feats)]
        td = [lat[-1]]
        for x in reversed(lat[:-1]):
            td.insert(0, x + F.interpolate(td[0], size=x.shape[-2:], mode="nearest"))
        out = [td[0]]
        for x in td[1:]:
            out.append(x + self.pool(out[-1]))
        return out
