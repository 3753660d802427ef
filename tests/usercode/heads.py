"""A user's dense head, shared across levels, and one with a bad reshape."""

from torch import nn


class TinyHead(nn.Module):
    def __init__(self, in_channels, num_classes=3):
        super().__init__()
        self.cls = nn.Conv2d(in_channels, num_classes, 3, padding=1)

    def forward(self, levels):
        return {"cls": [self.cls(x) for x in levels]}


class FlattenHead(nn.Module):
    """Reshapes each level as if it were 7x7: only right at one input size."""

    def __init__(self, in_channels):
        super().__init__()
        self.fc = nn.Linear(in_channels * 49, 10)

    def forward(self, levels):
        x = levels[-1]
        return {"logits": self.fc(x.view(x.shape[0], x.shape[1] * 49))}
