"""ProfileReport to rich tables: one row per stage for a single point, one row per point for a sweep."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fpnscope.render.fit import Fit
from fpnscope.render.fmt import si, size_bytes
from fpnscope.render.tables import figure, right, spaced, table
from fpnscope.reports.profile import ProfilePoint, ProfileReport, StageProfile


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.1f}"


def _flops(stage: StageProfile) -> str:
    return "" if stage.flops is None else si(stage.flops)


def _tflops(stage: StageProfile) -> str:
    if not stage.tflops:  # no FLOPs counted (a weightless backbone) or none measured
        return "—"
    # three significant figures, so a small stage on a slow device never reads 0.000
    return f"{stage.tflops:.2f}" if stage.tflops >= 1 else f"{stage.tflops:.3g}"


def _memory(stage: StageProfile, measured: bool = True) -> str:
    """Measured / estimated peak; the estimate alone where nothing is measured (off CUDA)."""
    estimated = size_bytes(stage.estimated_peak_bytes) if stage.estimated_peak_bytes is not None else "—"
    if not measured:
        return estimated
    shown = size_bytes(stage.measured_peak_bytes) if stage.measured_peak_bytes is not None else "—"
    return f"{shown} / {estimated}"


def _peak_column(stages: list[StageProfile]) -> tuple[bool, tuple[str, dict[str, Any]]]:
    measured = any(st.measured_peak_bytes is not None for st in stages)
    return measured, ("Peak meas. / est." if measured else "Peak (est.)", {"justify": "right", "min_width": 9})


def stage_table(point: ProfilePoint, mode: str) -> Table:
    """Every timed stage of one point."""
    measured, peak = _peak_column(list(point.stages.values()))
    out = table(
        f"Latency per stage · batch {point.batch} · {point.height}×{point.width}",
        ("Stage", {"style": "bold", "no_wrap": True}),
        ("Median ms", figure()),
        ("p10–p90 ms", figure()),
        ("img/s", figure()),
        ("FLOPs" + (" fwd+bwd" if mode == "train" else ""), figure()),
        ("TFLOP/s", figure()),
        peak,
    )
    for name, stage in point.stages.items():
        t = stage.timing
        out.add_row(
            ("  " if name.startswith("head ") else "") + name,
            f"{_ms(t.median_ms)} ±{_ms(t.std_ms)}",
            f"{_ms(t.p10_ms)}–{_ms(t.p90_ms)}",
            f"{stage.throughput_ips:,.1f}",
            _flops(stage),
            _tflops(stage),
            _memory(stage, measured),
        )
    out.caption = "Each stage is timed on inputs cached from the stage before; ± is the standard deviation. Peak memory: " + (
        "measured on CUDA above what was already allocated / estimated on the meta device (activations only)."
        if measured else "activations only, estimated on the meta device (measured on CUDA)."
    )
    return out


def sweep_table(report: ProfileReport) -> Table:
    """One row per (input, batch) point."""
    measured, peak = _peak_column([p.stages["model"] for p in report.points if p.status == "ok"])
    out = table(
        "Sweep",
        ("Input", {"style": "bold", "no_wrap": True}),
        ("Batch", right()),
        ("Median ms", figure()),
        ("p10–p90 ms", figure()),
        ("img/s", figure()),
        ("TFLOP/s", figure()),
        ("Stages ms", right()),
        peak,
    )
    notes = []
    for point in report.points:
        label = f"{point.height}×{point.width}"
        if point.status != "ok":
            out.add_row(label, str(point.batch), Text(point.status.upper(), style="bold red"), "—", "—", "—", "", "—")
            notes.append(f"{point.status.upper()} at {label}, batch {point.batch}: {point.message or 'no message'}.")
            continue
        model = point.stages["model"]
        parts = [point.stages.get(s) for s in ("backbone", "neck", "head")]
        split = " / ".join(_ms(p.timing.median_ms) for p in parts if p is not None)
        out.add_row(
            label, str(point.batch), _ms(model.timing.median_ms),
            f"{_ms(model.timing.p10_ms)}–{_ms(model.timing.p90_ms)}",
            f"{model.throughput_ips:,.1f}", _tflops(model), split, _memory(model, measured),
        )
    out.caption = " ".join([*notes, "Stages ms: the median of each stage on its own, backbone / neck / head (no head: "
                            "backbone / neck). --json has every stage of every point."])
    return out


def view(report: ProfileReport) -> Group:
    """The whole ``profile`` report as the terminal shows it."""
    d, s = report.device, report.settings
    head = Text(report.model, style="bold")
    if report.description:
        head.append(f"  {report.description}", style="dim")
    head.append(f"\n{d.name} ({d.used}) · torch {d.torch} · {d.threads} CPU threads")
    flags = [s.dtype, s.mode] + [f for f, on in (("channels-last", s.channels_last), ("compile", s.compile),
                                                  ("cuda-graphs", s.cuda_graphs)) if on]
    head.append(f"\n{' · '.join(flags)} · warm-up {s.warmup} · "
                + (f"{s.iters} iterations" if s.iters else "≥10 iterations and ≥1 s per stage"), style="dim")
    if d.note:
        head.append(f"\nnote: {d.note}", style="yellow")
    parts: list[Any] = [head]
    ok = [p for p in report.points if p.status == "ok"]
    if len(report.points) == 1 and ok:
        parts.append(Fit(stage_table(ok[0], s.mode), drop=("p10–p90 ms", "TFLOP/s")))
        if ok[0].params_bytes is not None:
            parts.append(Text(f"Parameters and buffers: {size_bytes(ok[0].params_bytes)}", style="dim"))
    else:
        parts.append(Fit(sweep_table(report), drop=("Stages ms", "p10–p90 ms", "TFLOP/s")))
    for point in report.points:
        if point.compile_seconds is not None:
            parts.append(Text(f"torch.compile: {point.compile_seconds:.1f} s at {point.batch}×{point.height}×{point.width} "
                              "(first calls, not in the latencies)", style="dim"))
    return spaced(parts)


def render_profile(report: ProfileReport, console: Console) -> None:
    """Print the whole ``profile`` report."""
    console.print(view(report))
