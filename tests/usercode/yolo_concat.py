"""A YOLO-style neck: upsample the coarser level by 2 and concatenate. At 240x240 it fails:
C4 is 15x15 and C5 upsampled is 16x16."""

import torch
from torch import nn


class ConcatNeck(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        c3, c4, c5 = in_channels
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.fuse4 = nn.Conv2d(c4 + c5, c4, 1)
        self.fuse3 = nn.Conv2d(c3 + c4, c3, 1)

    def forward(self, feats):
        c3, c4, c5 = feats
        p4 = self.fuse4(torch.cat([self.up(c5), c4], 1))
        p3 = self.fuse3(torch.cat([self.up(p4), c3], 1))
        return [p3, p4, c5]
