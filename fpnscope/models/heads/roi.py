"""RoI pooling for two-stage heads: FPN's level rule, multi-scale RoIAlign, and the synthetic RoIs
an analysis feeds it (their cost depends on how many there are, not on where they lie)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchvision.ops import roi_align


def roi_level(boxes: Tensor, *, k_min: int, k_max: int, canonical_scale: int, canonical_level: int) -> Tensor:
    """FPN's rule (Lin et al. 2017, eq. 1), as torchvision's LevelMapper: the pyramid level
    ``k = floor(k0 + log2(sqrt(wh) / s0))``, clamped to ``k_min..k_max``, of (x1, y1, x2, y2) boxes.

    >>> roi_level(torch.tensor([[0., 0, 224, 224], [0, 0, 100, 100], [0, 0, 2000, 900]]),
    ...           k_min=2, k_max=5, canonical_scale=224, canonical_level=4).tolist()
    [4, 2, 5]
    """
    size = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sqrt()
    # torchvision adds eps=1e-6 so that a box of exactly 2^j * s0 lands on level k0 + j
    k = torch.floor(canonical_level + torch.log2(size / canonical_scale) + 1e-6)
    return k.clamp(k_min, k_max).to(torch.int64)


def synthetic_rois(
    like: Tensor, image_hw: tuple[int, int], strides: Sequence[int], num_rois: int, canonical_scale: int,
    canonical_level: int,
) -> tuple[Tensor, list[int]]:
    """``num_rois`` boxes per image, spread as evenly as the count allows over the levels, and how
    many of all the images' boxes each level gets.

    Rows are ``(image index, x1, y1, x2, y2)`` in input pixels, grouped by level, then by image.
    A box of level ``k`` has the side ``s0 * 2^(k - k0 + 1/2)``, the middle of that level's range
    under the level rule, so the counts hold without reading the values: that is what lets a
    meta-device run pool them. The coordinates are computed in Python, so making them costs no op
    that a counter would see. Centres spread over the image; boxes may cross its edge, as
    RoIAlign allows.

    >>> rois, counts = synthetic_rois(torch.zeros(2, 8, 64, 64), (256, 256), [4, 8], 5, 224, 4)
    >>> tuple(rois.shape), counts
    ((10, 5), [6, 4])
    """
    batch = int(like.shape[0])
    height, width = image_hw
    per_level = [num_rois // len(strides) + (i < num_rois % len(strides)) for i in range(len(strides))]
    rows: list[list[float]] = []
    for n, stride in zip(per_level, strides):
        half = canonical_scale * 2 ** (math.log2(stride) - canonical_level + 0.5) / 2
        for image in range(batch):
            for i in range(n):
                cx = (i + 0.5) / n * width
                cy = ((i * 0.618034 + 0.5) % 1.0) * height  # golden-ratio steps: no two boxes in a row
                rows.append([float(image), cx - half, cy - half, cx + half, cy + half])
    rois = torch.tensor(rows, dtype=like.dtype, device=like.device).reshape(-1, 5)
    return rois, [batch * n for n in per_level]


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign of each RoI on the level the FPN rule picks, as torchvision's ``MultiScaleRoIAlign``
    (Faster and Mask R-CNN: sampling ratio 2, ``aligned=False``).

    ``strides`` are the levels' strides, consecutive powers of two, finest first; a level's scale
    is ``1 / stride``. Output: ``(K, C, output_size, output_size)`` in the order of the RoIs.
    """

    def __init__(
        self, *, strides: Sequence[int], output_size: int, sampling_ratio: int, aligned: bool, canonical_scale: int,
        canonical_level: int,
    ) -> None:
        super().__init__()
        ks = [math.log2(s) for s in strides]
        if any(k != int(k) for k in ks) or ks != list(range(int(ks[0]), int(ks[0]) + len(ks))):
            raise ValueError(f"RoI pooling needs strides that are consecutive powers of two, got {list(strides)}")
        self.strides = list(strides)
        self.k_min, self.k_max = int(ks[0]), int(ks[-1])
        self.output_size, self.sampling_ratio, self.aligned = output_size, sampling_ratio, aligned
        self.canonical_scale, self.canonical_level = canonical_scale, canonical_level

    def _align(self, x: Tensor, rois: Tensor, stride: int) -> Tensor:
        return roi_align(x, rois, self.output_size, 1.0 / stride, self.sampling_ratio, self.aligned)

    def forward(self, levels: list[Tensor], rois: Tensor, counts: Sequence[int] | None = None) -> Tensor:
        """Pool ``rois`` (``(K, 5)``: image index, x1, y1, x2, y2 in input pixels).

        With ``counts`` the RoIs come grouped by level (as :func:`synthetic_rois` makes them) and
        each level pools its slice. Without, the level rule picks each RoI's level from the box
        values, which a meta tensor does not have: there the result is an empty tensor of the
        pooled shape.
        """
        if counts is not None:
            chunks = rois.split(list(counts))
            return torch.cat([self._align(x, r, s) for x, r, s in zip(levels, chunks, self.strides)])
        shape = (rois.shape[0], levels[0].shape[1], self.output_size, self.output_size)
        if rois.device.type == "meta":
            return levels[0].new_empty(shape)
        k = roi_level(rois[:, 1:], k_min=self.k_min, k_max=self.k_max, canonical_scale=self.canonical_scale,
                      canonical_level=self.canonical_level)
        out = levels[0].new_zeros(shape)
        for i, (x, stride) in enumerate(zip(levels, self.strides)):
            idx = torch.where(k == self.k_min + i)[0]
            out[idx] = self._align(x, rois[idx], stride).to(out.dtype)
        return out

    def pool_synthetic(self, levels: list[Tensor], num_rois: int) -> Tensor:
        """Pool ``num_rois`` synthetic RoIs per image (see :func:`synthetic_rois`); the image size is
        the finest level's size times its stride."""
        image_hw = (int(levels[0].shape[-2]) * self.strides[0], int(levels[0].shape[-1]) * self.strides[0])
        rois, counts = synthetic_rois(levels[0], image_hw, self.strides, num_rois, self.canonical_scale,
                                      self.canonical_level)
        return self(levels, rois, counts)

    def extra_repr(self) -> str:
        return (f"strides={self.strides}, output_size={self.output_size}, sampling_ratio={self.sampling_ratio}, "
                f"aligned={self.aligned}")
