"""The FPN of the notebooks: lateral 1x1 convs, `F.interpolate(scale_factor=2)`, add.

At 800x1333 it fails: C3 has 167 columns and C4 upsampled by 2 has 168.
"""

import torch.nn.functional as F
from torch import nn


class NaiveFPN(nn.Module):
    def __init__(self, in_channels, out_channels=256):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in in_channels)
        self.output = nn.ModuleList(nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in in_channels)

    def forward(self, feats):
        laterals = [conv(x) for conv, x in zip(self.lateral, feats)]
        p = laterals[-1]
        outs = [p]
        for lat in reversed(laterals[:-1]):
            p = lat + F.interpolate(p, scale_factor=2, mode="nearest")
            outs.insert(0, p)
        return [conv(x) for conv, x in zip(self.output, outs)]
