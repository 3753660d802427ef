"""The neck's dataflow, recorded from its forward on meta tensors (never drawn by hand per kind).

Module hooks turn each *block* into one node: a module reached through containers (module lists,
and modules built around them) that is not a container itself, such as a conv + norm + act, an
attention block or a weighted fusion. A dispatch mode records the ops that run outside blocks,
keeping those that fuse several maps, resize, pool or concatenate. Everything else (views,
activations, scaling by a weight) passes its input through. Roles come from the resolutions:
upsampling is top-down, downsampling bottom-up, a same-size block reading a backbone level lateral.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakTensorKeyDictionary

from fpnscope.analysis.diagnose.crash import crash_finding
from fpnscope.analysis.measure.geometry import stride_of_shape
from fpnscope.analysis.measure.modules import describe
from fpnscope.analysis.measure.ops import op_name
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError
from fpnscope.models.io import as_maps
from fpnscope.reports.graph import GraphNode, GraphReport
from fpnscope.spec import is_power_of_two, level_name

_PASS_MODULES = (nn.ReLU, nn.SiLU, nn.GELU, nn.Identity, nn.Sigmoid, nn.Dropout, nn.Dropout2d, nn.Hardswish)
_RESIZE_OPS = {"upsample_nearest2d": "upsample nearest", "upsample_bilinear2d": "upsample bilinear",
               "_upsample_nearest_exact2d": "upsample nearest", "max_pool2d": "max-pool",
               "max_pool2d_with_indices": "max-pool", "avg_pool2d": "avg-pool"}
_CONCAT_OPS = {"cat", "stack"}


def _is_container(module: nn.Module) -> bool:
    """A list of parts, or a module built around one (an FPN, a BiFPN layer, a C2f): opened up."""
    lists = (nn.ModuleList, nn.ModuleDict)
    return isinstance(module, lists) or any(isinstance(c, lists) for c in module.children())


def _blocks(root: nn.Module) -> dict[str, nn.Module]:
    """Modules that become one node each: every module reached from the root through containers
    that is not a container itself (a conv + norm + act, an attention block, a fusion)."""
    blocks: dict[str, nn.Module] = {}

    def visit(name: str, module: nn.Module) -> None:
        for child_name, child in module.named_children():
            path = f"{name}.{child_name}" if name else child_name
            if _is_container(child):
                visit(path, child)
            else:
                blocks[path] = child

    visit("", root)
    return blocks


class GraphTracer(TorchDispatchMode):
    """Record the dataflow of ``neck`` while it runs on tagged inputs."""

    def __init__(self, neck: nn.Module, input_hw: tuple[int, int]) -> None:
        super().__init__()
        self.hw = input_hw
        self.nodes: list[GraphNode] = []
        self._producer = WeakTensorKeyDictionary()
        self._inside = 0
        self._consumed: list[int] = []  # nodes whose maps the current block really read
        self._handles: list[Any] = []
        for name, module in _blocks(neck).items():
            self._handles.append(module.register_forward_pre_hook(self._enter))
            self._handles.append(module.register_forward_hook(partial(self._leave, name)))

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()

    def add_input(self, tensor: Tensor, name: str) -> None:
        self._producer[tensor] = self._add("input", "input", name, tensor, [], prefix="C")

    def output_of(self, tensor: Tensor) -> int | None:
        return self._producer.get(tensor)

    def _level(self, tensor: Tensor, prefix: str) -> str:
        stride = stride_of_shape(self.hw, tuple(tensor.shape))
        # a map one pixel off its level (31×31 where P3 is 32×32) is on no level: no "Ps17"
        return level_name(prefix, stride) if stride and is_power_of_two(stride) else ""

    def _add(self, kind: str, role: str, label: str, tensor: Tensor, inputs: list[int], prefix: str = "P") -> int:
        shape = tuple(int(d) for d in tensor.shape)
        node = GraphNode(len(self.nodes), kind, role, label, self._level(tensor, prefix), shape, inputs)
        self.nodes.append(node)
        return node.id

    def _sources(self, value: Any) -> list[int]:
        found: list[int] = []
        for leaf in tree_flatten(value)[0]:
            if isinstance(leaf, Tensor) and leaf in self._producer and self._producer[leaf] not in found:
                found.append(self._producer[leaf])
        return found

    def _failed(self, name: str, args: tuple, kwargs: dict) -> None:
        """The op that raised: a node of its own, reading what it was given, with their shapes."""
        sources = self._sources((args, kwargs)) or (list(self._consumed) if self._inside else [])
        maps = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, Tensor) and t.dim() == 4]
        shapes = " and ".join("×".join(map(str, t.shape)) for t in maps)
        label = f"{name} raised on {shapes}" if shapes else f"{name} raised"
        if maps:  # drawn at the first operand's level
            self._add("op", "error", label, maps[0], sources)
        else:
            self.nodes.append(GraphNode(len(self.nodes), "op", "error", label, "", (), sources))

    def _enter(self, module: nn.Module, args: Any) -> None:
        if not self._inside:
            self._consumed = []
        self._inside += 1

    def _leave(self, name: str, module: nn.Module, args: Any, output: Any) -> None:
        self._inside -= 1
        if self._inside:
            return
        sources = list(self._consumed)  # what its ops read, not merely what it was given
        outs = [t for t in tree_flatten(output)[0] if isinstance(t, Tensor)]
        if not outs or not sources:
            return
        if isinstance(module, _PASS_MODULES) and len(sources) == 1:
            for t in outs:
                self._producer[t] = sources[0]
            return
        kind = "fusion" if len(sources) > 1 else "block"
        # a weightless leaf that merges maps (a weighted sum) is named for what it does
        merges_only = kind == "fusion" and not list(module.children()) and not isinstance(module, nn.Conv2d)
        label = f"{name}: " + (f"fuse {len(sources)} inputs" if merges_only else describe(module))
        node = self._add(kind, self._role(kind, sources, outs[0]), label, outs[0], sources)
        for t in outs:
            self._producer[t] = node

    def _role(self, kind: str, sources: list[int], out: Tensor) -> str:
        if kind == "fusion":
            return "fusion"
        src = self.nodes[sources[0]]
        size_in, size_out = src.shape[-2:], tuple(out.shape[-2:])
        if size_out[0] > size_in[0]:
            return "top-down"
        if size_out[0] < size_in[0]:
            return "bottom-up"
        return "lateral" if src.kind == "input" else "transform"

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        try:
            out = func(*args, **kwargs)
        except Exception:
            self._failed(op_name(func).rstrip("_"), args, kwargs)
            raise
        sources = self._sources((args, kwargs))
        if self._inside:
            self._consumed.extend(s for s in sources if s not in self._consumed)
            return out
        if not sources:
            return out
        name = op_name(func).rstrip("_")
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, Tensor)]
        if not outs:
            return out
        first = outs[0]
        src_shape = self.nodes[sources[0]].shape
        resized = first.dim() == 4 and len(src_shape) == 4 and tuple(first.shape[-2:]) != tuple(src_shape[-2:])
        if name in _CONCAT_OPS or (len(sources) > 1 and name not in ("copy", "clone")):
            label = f"{'concat' if name in _CONCAT_OPS else name} {len(sources)} inputs"
            node = self._add("fusion", "fusion", label, first, sources)
        elif name in _RESIZE_OPS or (resized and len(sources) == 1):
            label = _RESIZE_OPS.get(name, name) + f" {src_shape[-2]}×{src_shape[-1]}→{first.shape[-2]}×{first.shape[-1]}"
            node = self._add("op", self._role("op", sources, first), label, first, sources)
        else:
            node = sources[0]  # views, activations, scaling: the map passes through
        for t in outs:
            self._producer[t] = node
        return out


def trace_neck(
    neck: nn.Module, argument: Any, feats: list[Tensor], names: list[str], input_hw: tuple[int, int]
) -> tuple[list[GraphNode], list[int | None], bool]:
    """Run ``neck`` once on ``argument`` (its levels ``feats``, tagged ``names``): its nodes, the node
    of each output, and whether it raised (the failing op is then the last node, role ``error``)."""
    tracer = GraphTracer(neck, input_hw)
    try:
        with tracer, torch.no_grad():
            for tensor, name in zip(feats, names):
                tracer.add_input(tensor, name)
            try:
                outs, _ = as_maps(neck(argument))
            except Exception:
                return _name_resampling(tracer.nodes), [], True
        return _name_resampling(tracer.nodes), [tracer.output_of(t) for t in outs], False
    finally:
        tracer.close()


def _name_resampling(nodes: list[GraphNode]) -> list[GraphNode]:
    """Resizes that feed a fusion are the top-down and bottom-up paths; the others make levels on
    their own (P6 from C5, ViTDet's deconvolutions) and are called up- or downsampling."""
    feeds_fusion = {i for node in nodes if node.role in ("fusion", "error") for i in node.inputs}
    renamed = {"top-down": "upsample", "bottom-up": "downsample"}
    return [
        replace(node, role=renamed[node.role]) if node.role in renamed and node.id not in feeds_fusion else node
        for node in nodes
    ]


def neck_graph(cfg: PresetConfig, base_dir: Path | None = None, model: str = "") -> GraphReport:
    """The dataflow graph of ``cfg``'s neck, built and run on the meta device.

    >>> from fpnscope.config.loader import load_config
    >>> report = neck_graph(load_config("synthetic_fpn").config)
    >>> report.summary()["fusion"], [n for n in report.outputs]
    (3, ['P2', 'P3', 'P4', 'P5'])
    """
    from fpnscope.analysis.measure.run import BackboneCache, measure, run_backbone

    meta, cache = torch.device("meta"), BackboneCache(keep=1)  # the backbone is run once, for both
    run = measure(cfg, meta, base_dir, cache)
    if run.stopped_at == "backbone":
        raise BuildError("the backbone's forward raises, so the neck cannot be drawn; `fpnscope inspect` says why")
    bb = run_backbone(cfg, meta, base_dir, cache)
    names = [lvl.name for lvl in run.neck_inputs]
    argument = run.model.neck_input(bb.feats, bb.keys)
    inputs = [bb.feats[i] for i in run.model.neck_inputs]
    nodes, producers, failed = trace_neck(run.model.neck, argument, inputs, names, (cfg.input.height, cfg.input.width))
    outputs = {lvl.name: producer for lvl, producer in zip(run.levels, producers)}
    error = None
    if failed and run.failure is not None:
        coarsest = max((lvl.stride for lvl in run.backbone_levels), default=32)
        error = crash_finding(run.failure, (cfg.input.height, cfg.input.width), coarsest, cfg.neck).message
    return GraphReport(
        model=model or cfg.name or "",
        neck=cfg.neck.kind,
        inputs=[f"{lvl.name} {'×'.join(map(str, lvl.shape))}" for lvl in run.neck_inputs],
        nodes=nodes,
        outputs=outputs,
        output_shapes={lvl.name: lvl.shape for lvl in run.levels},
        error=error,
    )
