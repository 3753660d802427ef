"""The cost of the parts of a head that run once per RoI (a two-stage detector's box and mask
heads): it depends on how many RoIs they get, not on the image, so it is reported per RoI and at
a stated count, apart from the per-level costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RoICost:
    """One per-RoI stage, such as the box head at 1000 proposals per image.

    ``macs`` and ``elementwise`` are at ``rois`` RoIs (``rois_per_image`` × batch) and are part of
    the head's total; ``option`` is the head key that sets the count (``proposals``).

    >>> cost = RoICost("box head", "head.box_head", 14_362_055, 1000, "proposals", 2000, 2000 * 7, 2000 * 3)
    >>> cost.per_roi_macs, cost.to_dict()["per_roi"]["flops"]
    (7, 14)
    """

    stage: str
    module: str
    params: int
    rois_per_image: int
    option: str
    rois: int
    macs: int
    elementwise: int

    @property
    def per_roi_macs(self) -> int:
        """MACs of one RoI: every op of these stages runs once per RoI, so the count divides exactly."""
        return self.macs // self.rois if self.rois else 0

    @property
    def per_roi_elementwise(self) -> int:
        return self.elementwise // self.rois if self.rois else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "module": self.module,
            "params": self.params,
            "per_roi": {"macs": self.per_roi_macs, "flops": 2 * self.per_roi_macs,
                        "elementwise_ops": self.per_roi_elementwise},
            "rois_per_image": self.rois_per_image,
            "set_by": f"head.{self.option}",
            "rois": self.rois,
            "macs": self.macs,
            "flops": 2 * self.macs,
            "elementwise_ops": self.elementwise,
            "in_head_total": True,
        }
