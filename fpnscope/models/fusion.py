"""Fusing several same-shaped maps into one: plain, fast-normalised or softmax-weighted sums."""

from __future__ import annotations

import torch
from torch import Tensor, nn

EPS = 1e-4


class WeightedSum(nn.Module):
    """Sum of ``n`` maps with one learned weight each.

    ``fast`` (EfficientDet's fast normalised fusion): w = relu(w); out = sum(w_i x_i) / (sum w + 1e-4).
    ``softmax``: w = softmax(w). ``sum``: no weights at all.

    >>> fuse = WeightedSum(3, "fast")
    >>> round(float(fuse([torch.ones(1, 1, 2, 2)] * 3)[0, 0, 0, 0].detach()), 4)  # 3 / (3 + 1e-4)
    1.0
    """

    def __init__(self, n: int, method: str = "fast") -> None:
        super().__init__()
        if method not in ("fast", "softmax", "sum"):
            raise ValueError(f"unknown fusion {method!r}")
        self.method = method
        self.weight = nn.Parameter(torch.ones(n)) if method != "sum" else None

    def forward(self, xs: list[Tensor]) -> Tensor:
        if self.weight is None:
            out = xs[0]
            for x in xs[1:]:
                out = out + x
            return out
        if self.method == "softmax":
            w = torch.softmax(self.weight, dim=0)
        else:
            w = torch.relu(self.weight)
            w = w / (w.sum() + EPS)
        out = xs[0] * w[0]
        for i, x in enumerate(xs[1:], start=1):
            out = out + x * w[i]
        return out

    def extra_repr(self) -> str:
        return f"method={self.method}"
