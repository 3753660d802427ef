"""Numbers with units for people: SI prefixes and binary byte units (pure functions).

Shared by the renderers and by the few error messages that quote a size.
"""

from __future__ import annotations

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def si(value: float | None, unit: str = "", digits: int = 2) -> str:
    """``si(26_852_416) == '26.85 M'``; None gives an em dash.

    >>> si(147_898_393_600, "MACs")
    '147.90 GMACs'
    >>> si(512)
    '512'
    """
    if value is None:
        return "—"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.{digits}f}"
    return f"{text} {unit}".rstrip()


def size_bytes(value: float | None) -> str:
    """Bytes in binary units: ``size_bytes(3 * 2**30) == '3.00 GiB'``.

    >>> size_bytes(369_000_000)
    '351.91 MiB'
    """
    if value is None:
        return "—"
    for scale, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f} B"
