"""A neck whose laterals were written for another backbone: it expects 96 channels from C3."""

import torch.nn.functional as F
from torch import nn


class WrongLateral(nn.Module):
    def __init__(self, out_channels=64):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(96, out_channels, 1), nn.Conv2d(128, out_channels, 1)])

    def forward(self, feats):
        c3, c4 = feats
        p4 = self.lateral[1](c4)
        p3 = self.lateral[0](c3) + F.interpolate(p4, size=c3.shape[-2:])
        return [p3, p4]
