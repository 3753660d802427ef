"""Memory: parameter bytes, and the peak of live activations estimated on the meta device.

Meta tensors have storages with a size but no memory. Following every storage an op creates,
and noticing when the last tensor using it is gone, gives the bytes that would be live at each
moment of a real forward pass, hence its peak, at no cost.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_flatten

from fpnscope.errors import ConfigError
from fpnscope.units import size_bytes


class LiveTensors:
    """Bytes of activation storages alive now, and the most seen at once.

    Fed by :class:`~fpnscope.analysis.counter.CostCounter` with every op's outputs. Storages that
    already existed (parameters, buffers, the input) are not counted unless ``track`` is given them.

    >>> live = LiveTensors()
    >>> x = torch.empty(1024, device="meta")  # 4 KiB
    >>> live.track(x)
    >>> y = x.view(32, 32)  # a view: no new storage
    >>> live.track(y)
    >>> del x, y
    >>> live.current, live.peak
    (0, 4096)
    """

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self._users: dict[int, int] = {}  # storage -> live tensors using it
        self._sizes: dict[int, int] = {}

    def track(self, value: Any) -> None:
        """Count the storages of the tensors in ``value`` (each tensor once)."""
        for leaf in tree_flatten(value)[0]:
            if isinstance(leaf, Tensor):
                self._track_tensor(leaf)

    def _track_tensor(self, tensor: Tensor) -> None:
        try:
            storage = tensor.untyped_storage()
        except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
            return
        key = storage._cdata
        if key not in self._users:
            self._users[key] = 0
            self._sizes[key] = storage.nbytes()
            self.current += self._sizes[key]
            self.peak = max(self.peak, self.current)
        self._users[key] += 1
        weakref.finalize(tensor, self._release, key)

    def _release(self, key: int) -> None:
        self._users[key] -= 1
        if self._users[key] == 0:
            self.current -= self._sizes.pop(key)
            del self._users[key]


def param_bytes(module: nn.Module) -> int:
    """Bytes of parameters and buffers (shared tensors once)."""
    seen: set[int] = set()
    total = 0
    for tensor in [*module.parameters(), *module.buffers()]:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


def available_bytes(device: torch.device) -> int | None:
    """Memory the device can still give: free CUDA memory, or the host's available memory."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "cpu":
        try:
            with open("/proc/meminfo", encoding="ascii") as meminfo:
                for line in meminfo:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return None


def check_fits(needed: int, device: torch.device, what: str) -> None:
    """Refuse, before any allocation, a run whose estimated memory exceeds what ``device`` has."""
    available = available_bytes(device)
    if available is not None and needed > available:
        raise ConfigError(
            f"«device» {str(device)!r}: {what} needs about {size_bytes(needed)} (estimated on the meta "
            f"device) but {device} has {size_bytes(available)} available; use «device» meta (the "
            "default: no memory), or a smaller «input» or «batch»",
            option="device",
        )
