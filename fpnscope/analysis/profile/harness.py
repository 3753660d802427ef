"""The timing harness: warm-up, device synchronisation, many iterations, robust statistics.

On CUDA each iteration is timed with a pair of CUDA events; elsewhere with ``perf_counter`` after
synchronising. Inputs rotate over several buffers, so the timed loop does not run on one cached
input, and they are random, never zeros.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from fpnscope.reports.profile import TimingStats


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_calls(
    fn: Callable[[Any], Any],
    inputs: Sequence[Any],
    device: torch.device,
    *,
    warmup: int = 3,
    iters: int = 0,
    min_time_s: float = 1.0,
    max_iters: int = 1000,
) -> TimingStats:
    """Time ``fn(inputs[i % len(inputs)])``.

    ``iters`` > 0 times exactly that many calls; 0 times at least 10 calls and at least
    ``min_time_s`` seconds (up to ``max_iters``).

    >>> stats = time_calls(lambda x: x * 2, [torch.ones(4), torch.ones(4) * 3], torch.device("cpu"), iters=5)
    >>> stats.iters, stats.p10_ms <= stats.median_ms <= stats.p90_ms
    (5, True)
    """
    for i in range(warmup):
        fn(inputs[i % len(inputs)])
    synchronize(device)
    samples: list[float] = []
    started = time.perf_counter()
    target = iters if iters > 0 else max_iters
    i = 0
    while i < target:
        x = inputs[i % len(inputs)]
        if device.type == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            fn(x)
            end.record()
            end.synchronize()
            samples.append(begin.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn(x)
            synchronize(device)
            samples.append((time.perf_counter() - t0) * 1000)
        i += 1
        if iters <= 0 and i >= 10 and time.perf_counter() - started >= min_time_s:
            break
    return TimingStats.of(samples)
