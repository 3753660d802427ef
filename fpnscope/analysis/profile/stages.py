"""What ``profile`` times: the whole model and each stage on inputs cached from the stage before,
as functions of one input (a forward, or a training step), optionally replayed from a CUDA graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_flatten, tree_map

from fpnscope.models.io import as_maps
from fpnscope.models.model import PyramidModel


@dataclass
class StageCall:
    """One timed unit: a module, how to call it, and its rotating inputs."""

    name: str
    module: nn.Module
    inputs: list[Any]
    call: Callable[[Callable[..., Any], Any], Any]  # (the module, or its compiled form; one input)


def stage_calls(model: PyramidModel, xs: list[Tensor], train: bool, per_level_head: bool) -> list[StageCall]:
    """The whole model, then each stage on inputs cached from the stage before."""

    def cached(value: Any) -> Any:
        # train mode: cached maps take gradients, as they would inside the whole model
        return tree_map(lambda t: t.detach().requires_grad_(train) if isinstance(t, Tensor) else t, value)

    with torch.no_grad():
        feats = [model.features(x) for x in xs]
        neck_in = [model.neck_input(maps, keys) for maps, keys in feats]
        levels = [as_maps(model.neck(n)) for n in neck_in]
    calls = [
        StageCall("model", model, xs, lambda m, x: m(x)),
        StageCall("backbone", model.backbone, xs, lambda m, x: m(x)),
        StageCall("neck", model.neck, [cached(n) for n in neck_in], lambda m, x: m(x)),
    ]
    if model.head is not None:
        head_in = [cached(model.head_input(maps, keys)) for maps, keys in levels]
        calls.append(StageCall("head", model.head, head_in, lambda m, x: m(x)))
        if per_level_head:
            count = len(head_in[0])  # a shared head reads a list of levels
            calls += [StageCall(f"head#{i}", model.head, head_in, _on_level(i)) for i in range(count)]
    return calls


def _on_level(index: int) -> Callable[[Callable[..., Any], Any], Any]:
    """Call a shared head on one level alone."""

    def call(module: Callable[..., Any], levels: Any) -> Any:
        return module([levels[index]])

    return call


def make_runner(
    stage: StageCall, module: Callable[..., Any], train: bool, autocast: Any, no_grad: Any = torch.inference_mode
) -> Callable[[Any], Any]:
    """A function of one input: a forward (inference mode), or forward + backward + cleared grads.

    Counting passes ``no_grad=torch.no_grad``: dispatch modes do not see ops run in inference mode.
    """
    if not train:

        def infer(x: Any) -> Any:
            with no_grad(), autocast():
                return stage.call(module, x)

        return infer
    params = list(stage.module.parameters())

    def step(x: Any) -> None:
        with autocast():
            out = stage.call(module, x)
        tensors = [t for t in tree_flatten(out)[0] if isinstance(t, Tensor) and t.is_floating_point()]
        loss = sum(t.float().mean() for t in tensors)
        if isinstance(loss, Tensor) and loss.requires_grad:  # a weightless stage has nothing to train
            loss.backward()
        for p in params:
            p.grad = None
        for leaf in tree_flatten(x)[0]:
            if isinstance(leaf, Tensor) and leaf.requires_grad:
                leaf.grad = None

    return step


def graphed(run: Callable[[Any], Any], example: Any) -> Callable[[Any], Any]:
    """Capture ``run`` into a CUDA graph; replaying copies each new input into the static one."""
    static = tree_map(lambda t: t.clone() if isinstance(t, Tensor) else t, example)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # warm-up on a side stream, as graph capture requires
            run(static)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = run(static)
    static_leaves = [t for t in tree_flatten(static)[0] if isinstance(t, Tensor)]

    def replay(x: Any) -> Any:
        for dst, src in zip(static_leaves, [t for t in tree_flatten(x)[0] if isinstance(t, Tensor)]):
            dst.copy_(src)
        graph.replay()
        return out

    return replay
