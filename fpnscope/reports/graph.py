"""The neck's dataflow graph as plain data; ``to_dict()`` is the ``graph --json`` output.

JSON contract: ``nodes``: list of {id, kind ("input" | "block" | "fusion" | "op"), role ("input",
"lateral", "top-down", "bottom-up", "fusion", "transform", "upsample", "downsample", "error"), label,
level, shape, inputs (node ids)}; ``outputs``: {level name: node id}; ``summary``: node counts by
role, and ``fusion/N`` for fusion nodes of N inputs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from fpnscope.reports.common import Displayable, header


@dataclass(frozen=True)
class GraphNode:
    """One node: a backbone level, a block of layers, a fusion or a resize."""

    id: int
    kind: str
    role: str
    label: str
    level: str
    shape: tuple[int, ...]
    inputs: list[int] = field(default_factory=list)


@dataclass
class GraphReport(Displayable):
    """The dataflow of one neck; in a notebook it shows as a drawing (SVG) with the node table."""

    view: ClassVar[str] = "fpnscope.render.graph:view"

    model: str
    neck: str
    inputs: list[str]
    nodes: list[GraphNode]
    outputs: dict[str, int | None]
    output_shapes: dict[str, tuple[int, ...]]
    error: str | None = None  # the neck's forward raised: its failing op is the last node (role "error")

    def summary(self) -> dict[str, int]:
        """Nodes by role, and fusion nodes by their number of inputs (``fusion/2``)."""
        counts = Counter(node.role for node in self.nodes)
        for node in self.nodes:
            if node.role == "fusion":
                counts[f"fusion/{len(node.inputs)}"] += 1
        return dict(counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            **header("graph"),
            "model": self.model,
            "neck": self.neck,
            "inputs": self.inputs,
            "nodes": [asdict(n) | {"shape": list(n.shape)} for n in self.nodes],
            "outputs": self.outputs,
            "output_shapes": {k: list(v) for k, v in self.output_shapes.items()},
            "summary": self.summary(),
            "error": self.error,
        }

    def to_svg(self) -> str:
        """The dataflow drawn as an SVG document (no system graphviz needed): a row per level, a
        column per step; notebooks show it above the node table."""
        import importlib

        return str(importlib.import_module("fpnscope.render.svg").graph_svg(self))
