"""Backbones with mistakes, for the broken-preset corpus."""

from torch import nn


class Reversed(nn.Module):
    """Returns its levels coarsest first."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.b = nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def forward(self, x):
        a = self.a(x)
        return [self.b(a), a]


class Declared(Reversed):
    """Returns 8 channels at stride 4 and 16 at stride 8; the YAML declares otherwise."""

    def forward(self, x):
        a = self.a(x)
        return [a, self.b(a)]


class SharedStride(Reversed):
    """Returns two levels at stride 8 (the second a 1x1 conv of the first)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(16, 16, 1)

    def forward(self, x):
        a = self.a(x)
        b = self.b(a)
        return [a, b, self.c(b)]


class OddStride(Declared):
    """Returns levels at strides 4 and 12, finest first."""

    def __init__(self) -> None:
        super().__init__()
        self.b = nn.Conv2d(8, 16, 3, stride=3, padding=1)
