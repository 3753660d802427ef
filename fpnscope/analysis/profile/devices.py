"""The device a profile runs on: ``auto`` resolved, settings checked against it, its name."""

from __future__ import annotations

import torch

from fpnscope.analysis.measure.device import resolve_device
from fpnscope.errors import ConfigError
from fpnscope.reports.profile import ProfileSettings

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_profile_device(name: str) -> tuple[torch.device, str | None]:
    """``auto`` picks CUDA when present, else MPS, else the CPU, and says which."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), f"auto: CUDA device {torch.cuda.get_device_name(0)}"
        if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
            return torch.device("mps"), "auto: Apple MPS"
        return torch.device("cpu"), "auto: no CUDA device found, profiling on the CPU"
    if name == "meta":
        raise ConfigError("«device» 'meta': profile times real computation; use auto, cpu, cuda[:N] or mps",
                          option="device")
    return resolve_device(name, instead="cpu (or auto)"), None


def check_settings(settings: ProfileSettings, device: torch.device) -> None:
    """Refuse combinations that cannot run, with the reason."""
    if settings.dtype not in DTYPES:
        raise ConfigError(f"«dtype» {settings.dtype!r}: use fp32, fp16 or bf16", option="dtype", choices=list(DTYPES))
    if settings.mode not in ("infer", "train"):
        raise ConfigError(f"«mode» {settings.mode!r}: use infer or train", option="mode", choices=["infer", "train"])
    if settings.dtype == "fp16" and device.type == "cpu":
        raise ConfigError("«dtype» 'fp16': autocast on the CPU runs bf16; use «dtype» bf16 or a CUDA device", option="dtype")
    if settings.cuda_graphs and device.type != "cuda":
        raise ConfigError(f"«cuda_graphs»: CUDA graphs need a CUDA device, not {device}", option="cuda_graphs")
    if settings.cuda_graphs and settings.mode == "train":
        raise ConfigError("«cuda_graphs»: graphs are replayed for «mode» infer only", option="cuda_graphs")
    if settings.warmup < 0 or settings.iters < 0:
        raise ConfigError("«warmup» and «iters» must be zero or more", option="iters")


def device_name_of(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name where the system says it."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
                for line in info:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        import platform

        return platform.processor() or "CPU"
    return device.type


