"""A bottom-up path of 3x3 stride-2 convs without padding: each loses a border pixel, so 64 rows
become 63 where the next level has 64, at any input."""

from torch import nn


class UnpaddedPAN(nn.Module):
    def __init__(self, in_channels, out_channels=32):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, out_channels, 1) for c in in_channels])
        self.down = nn.ModuleList(
            [nn.Conv2d(out_channels, out_channels, 3, 2) for _ in in_channels[1:]]
        )

    def forward(self, feats):
        lat = [conv(f) for conv, f in zip(self.lateral, feats)]
        out = [lat[0]]
        for i, x in enumerate(lat[1:]):
            out.append(x + self.down[i](out[-1]))
        return out
