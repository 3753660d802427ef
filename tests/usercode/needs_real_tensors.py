"""A model whose constructor runs a forward to find its strides and reads them with .item(), as
ultralytics' DetectionModel does: it cannot be built on the meta device."""

import torch
from torch import nn


class StridedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c3 = nn.Conv2d(3, 8, 3, stride=8, padding=1)
        self.c4 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        probe = self.forward(torch.zeros(1, 3, 64, 64))
        self.strides = [int(64 // torch.tensor(p.shape[-1]).item()) for p in probe]

    def forward(self, x):
        c3 = self.c3(x)
        return [c3, self.c4(c3)]
