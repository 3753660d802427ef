"""Modules described in a few words, as the graph and the crash report name them."""

from __future__ import annotations

from torch import nn


def describe(module: nn.Module) -> str:
    """``conv 3×3 s2 256→256 + GroupNorm + ReLU`` for a chain of layers (or a single layer); the
    class name, with its convs counted, for anything with a forward of its own (CBAM, Bottleneck)."""
    if list(module.children()) and not isinstance(module, nn.Sequential):
        convs = sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in module.modules())
        return type(module).__name__ + (f" ({convs} convs)" if convs > 1 else f" ({convs} conv)" if convs else "")
    parts = []
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d)):
            k = "×".join(map(str, sub.kernel_size))
            kind = "deconv" if isinstance(sub, nn.ConvTranspose2d) else ("dwconv" if sub.groups == sub.in_channels > 1 else "conv")
            stride = f" s{sub.stride[0]}" if sub.stride[0] != 1 else ""
            parts.append(f"{kind} {k}{stride} {sub.in_channels}→{sub.out_channels}")
        elif isinstance(sub, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
            parts.append(type(sub).__name__.replace("2d", ""))
        elif isinstance(sub, (nn.ReLU, nn.SiLU, nn.GELU)):
            parts.append(type(sub).__name__)
        elif isinstance(sub, (nn.MaxPool2d, nn.AvgPool2d)):
            kind = "max-pool" if isinstance(sub, nn.MaxPool2d) else "avg-pool"
            parts.append(f"{kind} k{_side(sub.kernel_size)} s{_side(sub.stride)}")
        elif isinstance(sub, nn.Linear):
            parts.append(f"linear {sub.in_features}→{sub.out_features}")
    return " + ".join(parts) or type(module).__name__


def _side(value: object) -> str:
    """``2`` for 2 or (2, 2); ``2×3`` for (2, 3)."""
    if isinstance(value, (tuple, list)):
        return str(value[0]) if len(set(value)) == 1 else "×".join(map(str, value))
    return str(value)
