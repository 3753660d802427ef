"""Number formatting shared by every renderer (pure functions)."""

from __future__ import annotations

from fpnscope.units import si, size_bytes

__all__ = ["budget_value", "input_text", "metric_value", "share", "shape", "si", "size_bytes"]

def share(part: float | None, whole: float | None) -> str:
    """A percentage with one decimal, or an em dash."""
    if part is None or not whole:
        return "—"
    return f"{100 * part / whole:.1f}%"


def shape(dims: tuple[int, ...] | list[int]) -> str:
    """``(1, 256, 200, 334)`` -> ``'1×256×200×334'``."""
    return "×".join(str(d) for d in dims)


def metric_value(metric: str, value: float | None) -> str:
    """A compare metric with its unit: ``metric_value("memory", 3 * 2**20) == '3.00 MiB'``.

    >>> metric_value("latency", 12.345), metric_value("throughput", 1234.5), metric_value("macs", 2e9)
    ('12.35 ms', '1,234.5 img/s', '2.00 G')
    """
    if value is None:
        return "—"
    if metric == "memory":
        return size_bytes(value)
    if metric == "latency":
        return f"{value:.2f} ms"
    if metric == "throughput":
        return f"{value:,.1f} img/s"
    return si(value)


def budget_value(metric: str, relative: bool, value: float) -> str:
    """What a ``--fail-on`` check measured: a signed % change, or the metric with its unit.

    >>> budget_value("macs", True, 13.21), budget_value("memory", False, 489_892_904)
    ('+13.2%', '467.20 MiB')
    """
    return f"{value:+.1f}%" if relative else metric_value(metric, value)


def input_text(given: tuple[int, int, int, int] | None) -> str:
    """``(1, 3, 800, 1333)`` -> ``'800×1333'``, with the batch when it is not 1.

    >>> input_text((8, 3, 512, 512))
    '512×512, batch 8'
    """
    if given is None:
        return "—"
    batch, _, height, width = given
    return f"{height}×{width}" + (f", batch {batch}" if batch != 1 else "")
