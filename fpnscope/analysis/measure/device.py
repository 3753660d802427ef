"""Choosing and checking the device an analysis runs on."""

from __future__ import annotations

import re

import torch

from fpnscope.errors import ConfigError

_DEVICE = re.compile(r"^(meta|cpu|cuda(:\d+)?|mps)$")


def resolve_device(name: str, instead: str = "meta or cpu") -> torch.device:
    """Check that ``name`` is a device this machine has; a clear ConfigError otherwise, which
    suggests the devices in ``instead``.

    >>> resolve_device("meta")
    device(type='meta')
    """
    if not _DEVICE.match(name):
        raise ConfigError(f"«device» {name!r}: use meta, cpu, cuda, cuda:N or mps", option="device")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"«device» {name!r}: CUDA is not available on this machine; use «device» {instead}",
                              option="device")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"«device» {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0",
                option="device",
            )
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"«device» {name!r}: MPS is not available on this machine; use «device» {instead}",
                          option="device")
    return device


def make_input(batch: int, channels: int, height: int, width: int, device: torch.device) -> torch.Tensor:
    """An input batch: shape only on meta, random values elsewhere (never zeros)."""
    if device.type == "meta":
        return torch.empty(batch, channels, height, width, device=device)
    generator = torch.Generator().manual_seed(0)
    return torch.randn(batch, channels, height, width, generator=generator).to(device)
