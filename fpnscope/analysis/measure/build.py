"""Building a stage for a measurement: on the device asked for, and for a constructor that needs
real tensors (one that runs a forward to find its strides, say), on the CPU once the parameters it
registered while trying on meta are known to fit; the analysis itself stays on meta."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_buffer_registration_hook,
    register_module_parameter_registration_hook,
)
from torch.utils._python_dispatch import _disable_current_modes

from fpnscope.analysis.measure.failure import raised_at
from fpnscope.analysis.measure.memory import available_bytes
from fpnscope.errors import BuildError, ConfigError, FpnscopeError
from fpnscope.units import size_bytes

# errors of the code itself, whatever the device: never a reason to try another device
CODE_ERRORS = (IndexError, KeyError, AttributeError, TypeError, NameError, ValueError, AssertionError,
               ZeroDivisionError)


def reason(err: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}".rstrip(": ")


@contextmanager
def _registered_bytes() -> Iterator[list[int]]:
    """Bytes of every parameter and buffer any module registers while the block runs."""
    total = [0]

    def count(module: nn.Module, name: str, tensor: Any) -> None:
        if isinstance(tensor, torch.Tensor):
            total[0] += tensor.numel() * tensor.element_size()

    handles = [register_module_parameter_registration_hook(count), register_module_buffer_registration_hook(count)]
    try:
        yield total
    finally:
        for handle in handles:
            handle.remove()


def build_on(device: torch.device, what: str, fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)`` with ``device`` as the default device, and a note when it had to be built on the
    CPU instead; a constructor that fails for a reason of its own is a BuildError naming its line."""
    with _registered_bytes() as registered, _disable_current_modes():  # building is neither cost nor activations
        try:
            with torch.device(device):
                return fn(*args), None
        except FpnscopeError:
            raise
        except Exception as err:
            where = raised_at(err)
            first = err
    at = f" at {where.where}" if where is not None else ""
    if device.type != "meta" or isinstance(first, CODE_ERRORS):
        raise BuildError(f"{what} raised {reason(first)}{at}" + ("" if device.type == "meta" else f" on {device}")) from first
    needed, available = registered[0], available_bytes(torch.device("cpu"))
    if available is not None and needed > available:
        raise ConfigError(
            f"{what} could not be built on meta ({reason(first)}{at}), and the {size_bytes(needed)} of parameters "
            f"it made before it stopped would not fit in the {size_bytes(available)} the CPU has, so it was not "
            "built there either", option="device"
        )
    try:
        with torch.device("cpu"), _disable_current_modes():
            built = fn(*args)
    except FpnscopeError:
        raise
    except Exception as err:
        again = raised_at(err)
        line = f" at {again.where}" if again is not None else ""
        same = reason(err) == reason(first)
        raise BuildError(f"{what} raised {reason(err)}{line}" + (" (on meta, and again on the CPU)" if same else
                         f" on the CPU, after {reason(first)}{at} on meta")) from err
    note = (f"{what} needs real tensors ({reason(first)}{at}): built on the CPU once the "
            f"{size_bytes(needed)} of parameters it registered on meta were found to fit, then measured on meta")
    return _to_meta(built), note


def _to_meta(built: Any) -> Any:
    """A built stage moved to meta for the measurement (its pair of declared specs kept)."""
    if isinstance(built, nn.Module):
        return built.to("meta")
    if isinstance(built, tuple) and built and isinstance(built[0], nn.Module):
        return (built[0].to("meta"), *built[1:])
    return built
