"""A backbone that returns a dict, as detectron2's do: the keys are kept beside the level names."""

from torch import nn


class Res(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, stride=4, padding=1)
        self.res3 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.res4 = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)

    def forward(self, x):
        res2 = self.stem(x)
        res3 = self.res3(res2)
        return {"res2": res2, "res3": res3, "res4": self.res4(res3)}


class DictNeck(nn.Module):
    """Takes the levels as a dict keyed as the backbone keyed them."""

    def __init__(self, in_channels, out_channels=16):
        super().__init__()
        self.proj = nn.ModuleDict({k: nn.Conv2d(c, out_channels, 1) for k, c in zip(("res2", "res3", "res4"), in_channels)})

    def forward(self, feats):
        return {f"p{k[-1]}": conv(feats[k]) for k, conv in self.proj.items()}
