"""``sweep``: every point of a grid analysed as ``inspect`` analyses it, and timed with profile settings.

Points that share a backbone configuration and an input measure the backbone once, through a
cache this call owns (on meta, where its runs cost no memory); nothing else outlives its point, so
memory stays flat however many points there are. A point that cannot be built or run keeps its
reason in its row, and Ctrl-C (KeyboardInterrupt) ends the sweep with the points measured so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fpnscope.config.grid import KIND, Axis, grid_points, neck_swap, point_label, point_overrides
from fpnscope.config.loader import LoadedConfig, load_config
from fpnscope.config.overrides import Override
from fpnscope.config.trust import require_trust
from fpnscope.errors import ConfigError, FpnscopeError
from fpnscope.reports.profile import ProfileSettings
from fpnscope.reports.sweep import SweepPoint

if TYPE_CHECKING:
    from fpnscope.analysis.measure.run import BackboneCache

__all__ = ["sweep_points"]


def sweep_device(device: str) -> tuple[str, str | None]:
    """The device a profiled sweep times on, and a note when ``auto`` chose it."""
    from fpnscope.analysis.profile.devices import resolve_profile_device

    resolved, note = resolve_profile_device(device)
    return str(resolved), note


def sweep_points(
    base: LoadedConfig,
    axes: Sequence[Axis],
    sets: Sequence[Override] = (),
    *,
    profile: ProfileSettings | None = None,
    device: str = "auto",
    allow_python: bool = False,
    on_point: Callable[[int, int, str], None] | None = None,
) -> tuple[list[SweepPoint], bool]:
    """Measure every point of ``axes`` on ``base``; returns the points and whether Ctrl-C cut it short.

    >>> from fpnscope.config.loader import load_config
    >>> points, stopped = sweep_points(load_config("synthetic_fpn"), [("neck.kind", ("fpn", "bifpn"))],
    ...                                [Override("input.height", 64), Override("input.width", 64)])
    >>> [(p.values["neck.kind"], p.status, p.levels[0]) for p in points], stopped
    ([('fpn', 'ok', 'P2:256'), ('bifpn', 'ok', 'P2:256')], False)
    """
    from fpnscope.analysis.measure.run import BackboneCache

    cache = BackboneCache()  # this call's own: points on one backbone and input measure it once
    plan = grid_points(axes)
    points: list[SweepPoint] = []
    refused: list[ConfigError] = []
    try:
        for index, values in enumerate(plan):
            if on_point is not None:
                on_point(index, len(plan), point_label(values))
            point, error = _point(base, index, values, sets, cache, profile, device, allow_python)
            points.append(point)
            refused += [error] if error is not None else []
    except KeyboardInterrupt:
        return points, True
    if refused and len(refused) == len(points):
        # no point of the grid even loads: the grid (a key, a value) is wrong, not the design
        raise refused[0]
    if on_point is not None:
        on_point(len(plan), len(plan), "done")
    return points, False


def _point(
    base: LoadedConfig, index: int, values: dict[str, Any], sets: Sequence[Override], cache: BackboneCache,
    profile: ProfileSettings | None, device: str, allow_python: bool,
) -> tuple[SweepPoint, ConfigError | None]:
    """One point: its row, and the configuration error that stopped it, if one did."""
    from fpnscope.analysis.inspect import inspect_model

    kind = values.get(KIND)
    own = base.config.neck.kind
    transform = neck_swap(str(kind)) if kind is not None and kind != own else None
    try:
        loaded = load_config(base, point_overrides(values, sets, str(kind or own)), transform)
    except ConfigError as err:
        return SweepPoint(index, values, status="error", reason=str(err)), err
    require_trust(loaded, allow_python)  # refused outright: a grid cannot make code run unasked
    try:
        point = SweepPoint.from_inspect(index, values, inspect_model(loaded, cache=cache))
        if profile is not None:
            _time(point, loaded, device, profile)
    except FpnscopeError as err:
        return SweepPoint(index, values, status="error", reason=str(err)), None
    return point, None


def _time(point: SweepPoint, loaded: LoadedConfig, device: str, settings: ProfileSettings) -> None:
    """Latency and throughput of the whole model from the profile harness (memory check, OOM recorded)."""
    from fpnscope.analysis.profile.run import profile_model

    timed = profile_model(loaded, device, settings).points[0]
    if timed.status != "ok":
        point.status, point.reason = timed.status, timed.message
        return
    point.latency_ms = timed.stages["model"].timing.median_ms
    point.throughput_ips = timed.stages["model"].throughput_ips
