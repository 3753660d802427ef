"""CompareReport to rich: the variants table with deltas, per stage, per level, and a bar chart."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fpnscope.render.fit import Fit
from fpnscope.render.fmt import budget_value, input_text, metric_value, si
from fpnscope.render.plain import PlainTable
from fpnscope.render.tables import bars, figure, right, spaced, table
from fpnscope.reports.compare import LOWER_IS_BETTER, PER_ROI, CompareReport, VariantResult
from fpnscope.reports.inspect import STAGES


def _delta_text(report: CompareReport, variant: VariantResult, metric: str) -> Text:
    """The value, and for non-baseline rows its change in %: green when better, red when worse."""
    text = Text(metric_value(metric, variant.value(metric)))
    delta = report.delta(variant, metric) if variant is not report.baseline else None
    if delta is not None:
        better = delta < 0 if LOWER_IS_BETTER[metric] else delta > 0
        style = "dim" if abs(delta) < 5e-4 else ("green" if better else "red")
        text.append(f" {delta:+.1%}", style=style)
    return text


def levels_text(levels: list[str]) -> str:
    """``["P3:256", "P4:256", "P5:256"]`` -> ``"P3–P5 ×256"``; mixed widths are listed.

    >>> levels_text(["P3:64", "P4:128"])
    'P3:64 P4:128'
    """
    widths = {lvl.split(":")[1] for lvl in levels}
    if len(levels) > 1 and len(widths) == 1:
        return f"{levels[0].split(':')[0]}–{levels[-1].split(':')[0]} ×{widths.pop()}"
    return " ".join(levels)


def variants_table(report: CompareReport) -> Table:
    """One row per variant: totals with deltas against the first (the baseline)."""
    profiled = any(v.latency_ms is not None for v in report.variants)
    mixed = len(report.inputs) > 1
    figure_column = figure()  # a value and its delta stay on one line
    columns: list[tuple[str, dict[str, Any]]] = [
        ("Variant", {"style": "bold"}),
        ("Params", figure_column),
        ("MACs", figure_column),
        ("Memory", figure_column),
        ("Levels", {}),
    ]
    if profiled:
        columns[4:4] = [("Latency", figure_column), ("Throughput", figure_column)]
    if mixed:
        columns.insert(1, ("Input", {"style": "yellow", "no_wrap": True}))
    count = len(report.variants)
    title = f"{count} variant{'s' if count != 1 else ''} · baseline: {report.baseline.name}"
    if len(report.inputs) == 1:
        title += f" · input {input_text(report.inputs[0])}"
    out = table(title, *columns)
    for v in report.variants:
        name = Text(v.name) + (Text(" (base)", style="dim") if v is report.baseline else Text())
        if v.status != "ok":
            out.add_row(name, Text("error", style="bold red"), *[""] * (len(columns) - 3),
                          Text(v.error or "", style="red"))
            continue
        cells = [_delta_text(report, v, m) for m in ("params", "macs", "memory")]
        if profiled:
            cells[3:3] = [_delta_text(report, v, "latency"), _delta_text(report, v, "throughput")]
        if mixed:
            cells.insert(0, Text(input_text(v.input)))
        out.add_row(name, *cells, Text(levels_text(v.levels), style="cyan"))
    out.caption = ("MACs: multiply-accumulates (FLOPs = 2 × MACs); memory: estimated for one inference pass. "
                     "Green: better than the baseline; red: worse.")
    if mixed:
        out.caption += " The inputs differ, so the deltas compare different work."
    return out


def stages_table(report: CompareReport) -> Table:
    """Params and MACs of each stage; cells that differ from the baseline are coloured."""
    columns = [("Variant", {"style": "bold", "no_wrap": True})]
    for stage in STAGES:
        columns += [(f"{stage.capitalize()} params", right()), (f"{stage.capitalize()} MACs", right())]
    out = table("Per stage", *columns)
    base = report.baseline
    for v in report.variants:
        if v.status != "ok":
            continue
        cells = []
        for stage in STAGES:
            for metric in ("params", "macs"):
                value, ref = getattr(v, metric).get(stage), getattr(base, metric).get(stage)
                style = "" if v is base or value == ref else ("green" if (value or 0) < (ref or 0) else "red")
                cells.append(Text("—" if value is None else si(value), style=style))
        out.add_row(v.name, *cells)
    return out


def levels_table(report: CompareReport) -> Table | None:
    """MACs at each level's resolution, with the change against the baseline: where variants differ."""
    ok = [v for v in report.variants if v.status == "ok"]
    strides = sorted({s for v in ok for s in v.level_macs})
    if not strides or len(ok) < 2:
        return None
    out = table("MACs per level", ("Level", {"style": "bold", "no_wrap": True}),
                   *[(v.name, figure()) for v in ok])
    base = report.baseline
    # levels finest first, then "other" (0), then the per-RoI heads (-1)
    for stride in [*(s for s in strides if s > 0), *(s for s in strides if s == 0), *(s for s in strides if s < 0)]:
        if not any(v.level_macs.get(stride) for v in ok):
            continue  # no MACs at this level in any variant (a max-pooled extra level)
        cells = []
        for v in ok:
            value, ref = v.level_macs.get(stride, 0), base.level_macs.get(stride, 0)
            text = Text(si(value) if value else "—")
            if v is not base and value != ref and value:  # none at all here: the dash says it
                change = (value - ref) / ref if ref else float("inf")
                if not ref:
                    text.append(" new", style="red")
                elif abs(change) < 0.005:
                    text.append(" ≈", style="dim")  # differs by less than the shown precision
                else:
                    text.append(f" {change:+.0%}", style="green" if value < ref else "red")
            cells.append(text)
        label = f"{stride.bit_length() - 1} (/{stride})" if stride > 0 else "other" if stride == 0 else "per-RoI heads"
        out.add_row(label, *cells)
    out.caption = "Each op is placed at the level whose resolution it runs at; other: on no level's grid."
    if PER_ROI in strides:
        out.caption += " Per-RoI heads: a two-stage head's box and mask heads, at their RoI counts."
    return out


def metric_label(metric: str) -> str:
    """How a title names a metric: ``MACs``, ``FLOPs``, ``Params``, ``Latency``...

    >>> metric_label("macs"), metric_label("memory")
    ('MACs', 'Memory')
    """
    return {"macs": "MACs", "flops": "FLOPs"}.get(metric, metric.capitalize())


def bar_chart(report: CompareReport) -> Table:
    """Horizontal bars of the chosen metric."""
    metric = report.metric
    rows = [(v.name, v.value(metric)) for v in report.variants if v.status == "ok"]
    return bars(f"{metric_label(metric)} by variant", rows, lambda value: metric_value(metric, value))


def view(report: CompareReport) -> Group:
    """The whole ``compare`` report as the terminal shows it."""
    parts: list[Any] = [Fit(variants_table(report), drop=("Levels", "Memory")), Fit(stages_table(report))]
    levels = levels_table(report)
    if levels is not None:
        parts.append(Fit(levels))
    parts.append(bar_chart(report))
    if report.budgets:
        lines = Text()
        for check in report.budgets:
            mark, style = ("✗ over budget", "bold red") if check.exceeded else ("✓ within budget", "green")
            lines.append(f"{mark}: {check.variant} {check.metric} = {budget_value(check.metric, check.relative, check.value)} "
                         f"(limit {check.expression})\n", style=style)
        lines.rstrip()
        parts.append(lines)
    return spaced(parts)


def render_compare(report: CompareReport, console: Console) -> None:
    """Print the whole ``compare`` report."""
    console.print(view(report))


def compare_tables(report: CompareReport) -> list[PlainTable]:
    """The variants as one flat table (the CSV), with per-stage figures and deltas."""
    headers = ["variant", "source", "status", "error"]
    for metric in ("params", "macs", "flops"):
        headers += [f"{metric}_{stage}" for stage in ("total", *STAGES)]
    headers += ["memory_bytes", "latency_ms", "throughput_ips", "levels",
                "delta_params", "delta_macs", "delta_memory", "delta_latency"]
    rows = []
    for v in report.variants:
        row: list[Any] = [v.name, v.source, v.status, v.error or ""]
        for metric in ("params", "macs", "flops"):
            row += [getattr(v, metric).get(k) for k in ("total", *STAGES)]
        row += [v.memory_bytes, v.latency_ms, v.throughput_ips, " ".join(v.levels)]
        row += [report.delta(v, m) if v is not report.baseline else None for m in ("params", "macs", "memory", "latency")]
        rows.append(row)
    flat = PlainTable(f"Compare (baseline: {report.baseline.name})", headers, rows)
    # For people (Markdown): each figure with its unit and its change; the CSV is the flat table.
    metrics = ["params", "macs", "memory"] + (["latency", "throughput"] if any(v.latency_ms for v in report.variants) else [])
    summary = PlainTable(
        "Variants against the baseline",
        ["variant", "input", *metrics, "levels"],
        [[v.name, input_text(v.input), *(_with_delta(report, v, m) for m in metrics), levels_text(v.levels)]
         for v in report.variants if v.status == "ok"],
    )
    return [flat, summary]


def _with_delta(report: CompareReport, variant: VariantResult, metric: str) -> str:
    delta = report.delta(variant, metric) if variant is not report.baseline else None
    return metric_value(metric, variant.value(metric)) + (f" ({delta:+.1%})" if delta is not None else "")
