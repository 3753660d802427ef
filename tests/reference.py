"""Helpers for the reference-equivalence tests: counts, random weights and norm statistics, and
loading a reference module's weights into ours through a key map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def n_params(module: nn.Module) -> int:
    """All parameters, frozen ones included (as ultralytics and torchvision count them)."""
    return sum(p.numel() for p in module.parameters())


def macs(fn: Callable[..., Any], *args: Any) -> int:
    """Multiply-accumulates that torch's flop counter sees (conv, matmul): its FLOPs / 2."""
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops() // 2


def randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights and norm statistics everywhere, so that copied weights are really tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.05)
    return module


def copy_into(ours: nn.Module, state: dict[str, torch.Tensor], key: Callable[[str], str]) -> None:
    """Load ``state`` through the key map, strictly: every tensor must map, both ways."""
    ours.load_state_dict({key(k): v for k, v in state.items()}, strict=True)


def prefixed(prefix: str, module: nn.Module) -> dict[str, torch.Tensor]:
    """``module``'s state with ``prefix`` before every key."""
    return {f"{prefix}{k}": v for k, v in module.state_dict().items()}
