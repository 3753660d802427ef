"""The ``inspect`` report in the terminal: levels, head outputs, costs, memory, MACs per level,
modules and findings."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fpnscope.render.findings import findings_block
from fpnscope.render.fit import Fit
from fpnscope.render.fmt import shape, share, si, size_bytes
from fpnscope.render.sizes import size_parts
from fpnscope.render.tables import figure, level_table, right, spaced, table
from fpnscope.reports.inspect import STAGES, InspectReport


def cost_table(report: InspectReport) -> Table:
    """Params, MACs, FLOPs and element-wise ops per stage, with shares of the total."""
    total = report.total
    out = table(
        "Cost",
        ("Stage", {"style": "bold"}),
        ("Params", right()),
        ("Params %", right()),
        ("MACs", right()),
        ("FLOPs (2×MACs)", right()),
        ("MACs %", right()),
        ("Element-wise ops", right()),
    )
    stopped = report.stopped_at
    after = STAGES[STAGES.index(stopped) + 1:] if stopped is not None else ()
    for stage in STAGES:
        cost = report.stages.get(stage)
        if cost is None:
            why = "not run" if stage in after and (stage != "head" or report.model.head) else f"no {stage}"
            out.add_row(stage, Text(why, style="dim"), "", "", "", "", "")
            continue
        out.add_row(
            stage + (" (until it raised)" if stage == stopped else ""),
            si(cost.params),
            share(cost.params, total.params),
            si(cost.macs),
            si(cost.flops),
            share(cost.macs, total.macs),
            si(cost.elementwise),
        )
    out.add_section()
    out.add_row("total", si(total.params), "", si(total.macs), si(total.flops), "", si(total.elementwise), style="bold")
    out.caption = (
        "MACs = multiply-accumulates of conv, linear and matmul; FLOPs = 2 × MACs. Element-wise ops "
        "(adds, resizes, pooling, norms, activations) are counted apart."
    )
    if report.roi_costs:
        counted = ", ".join(f"{rc.stage} at {rc.rois:,} RoIs" for rc in report.roi_costs)
        out.caption += f" The head includes its per-RoI heads ({counted}): see Per-RoI heads."
    return out


def head_tables(report: InspectReport) -> list[Table]:
    """The head's outputs: one row per level for those that are per level (``cls P3``), the rest
    by name (one row per RoI for a two-stage head's RoI outputs)."""
    title = f"Head outputs ({report.model.head})"
    level_names = {lvl.name for lvl in report.levels}
    per_level = [out for out in report.head_outputs if out.level in level_names and out.output]
    others = [out for out in report.head_outputs if not (out.level in level_names and out.output)]
    tables = []
    if per_level:
        keys = list(dict.fromkeys(out.output for out in per_level))
        levels = list(dict.fromkeys(str(out.level) for out in per_level))
        shapes = {(out.output, out.level): out.shape for out in per_level}
        out = table(title, ("Level", {"style": "bold"}), *[(k, {}) for k in keys])
        for lvl in levels:
            out.add_row(lvl, *[shape(shapes[(k, lvl)]) if (k, lvl) in shapes else "" for k in keys])
        tables.append(out)
    if others:
        per_roi = bool(report.roi_costs)
        out = table("Per-RoI outputs" if per_roi and per_level else title, ("Output", {"style": "bold"}),
                    ("Shape", {}))
        for item in others:
            out.add_row(item.name, shape(item.shape))
        tables.append(out)
    return tables


def roi_table(report: InspectReport) -> Table:
    """The per-RoI parts of a head: their cost per RoI and at the RoI count they ran with."""
    out = table(
        "Per-RoI heads (their cost follows the RoI count, not the image)",
        ("Stage", {"style": "bold"}),
        ("Params", figure()),
        ("MACs per RoI", figure()),
        ("RoIs", figure()),
        ("MACs, all RoIs", figure()),
        ("FLOPs (2×MACs)", figure()),
        ("Element-wise ops", figure()),
    )
    for rc in report.roi_costs:
        out.add_row(rc.stage, si(rc.params), si(rc.per_roi_macs), f"{rc.rois:,}", si(rc.macs), si(2 * rc.macs),
                    si(rc.elementwise))
    counts = "; ".join(f"{rc.stage}: head.{rc.option} = {rc.rois_per_image:,} per image" for rc in report.roi_costs)
    out.caption = (f"RoIs = per image × batch {report.input.batch} ({counts}). The head's MACs in Cost include "
                   "these at those counts; MACs per level leave them out. Change a count with --set.")
    return out


def level_cost_table(report: InspectReport) -> Table:
    """MACs per level and stage, by the resolution each op ran at."""
    stages = [s for s in STAGES if report.stages.get(s) is not None]
    out = table(
        "MACs per level (by the resolution each op runs at)",
        ("Level", {"style": "bold"}),
        ("Stride", right()),
        *[(stage.capitalize(), right()) for stage in stages],
        ("Total", right()),
        ("Share", right()),
    )
    total = report.total.macs
    captions: list[str] = []
    if report.roi_costs:
        captions.append(f"Left out: the per-RoI heads ({si(sum(rc.macs for rc in report.roi_costs))} MACs), on no "
                        "level; Share is of the model's total, which includes them.")
    for row in report.level_costs:
        level_total = sum(row.macs[s] for s in stages)
        if not level_total:
            continue  # element-wise only: in the JSON, not worth a row here
        if row.level is None:
            captions.insert(0, "other: ops on no level's grid (pooled maps, windows)")
        out.add_row(
            str(row.level) if row.level is not None else "other",
            str(row.stride) if row.stride is not None else "",
            *[si(row.macs[s]) if row.macs[s] else "" for s in stages],
            si(level_total),
            share(level_total, total),
        )
    if captions:
        out.caption = " ".join(captions)
    return out


def module_table(report: InspectReport) -> Table:
    """The per-module breakdown (``--depth``)."""
    total = report.total.macs
    out = table(
        "Modules",
        ("Module", {}),
        ("Type", {"style": "dim"}),
        ("Output", {}),
        ("Params", right()),
        ("MACs", right()),
        ("MACs %", right()),
        ("Calls", right()),
    )
    for row in report.modules:
        indent = "  " * (row.depth - 1)
        out.add_row(
            indent + row.name.rsplit(".", 1)[-1] if row.depth > 1 else row.name,
            row.type,
            row.shape,
            si(row.params) if row.params else "",
            si(row.macs) if row.macs else "",
            share(row.macs, total) if row.macs else "",
            str(row.calls) if row.calls > 1 else "",
        )
    if any(row.calls > 1 for row in report.modules):
        out.caption = "Calls: shown for a module run more than once (a head shared across levels); its output is its first call's."
    return out


def _levels(title: str, report: InspectReport, stage: str) -> Any:
    """A stage's levels, or why there are none: its forward (or an earlier one) raised."""
    levels = report.backbone_levels if stage == "backbone" else report.levels
    stopped = report.stopped_at
    if stopped is not None and (stopped == stage or stopped == "backbone"):
        line = Text(title, style="bold")
        line.append(f"  not measured: the {stopped}'s forward raised (see the forward-error finding below)", style="yellow")
        return line
    return Fit(level_table(title, levels, with_sources=stage == "neck", keys=any(lvl.key for lvl in levels)),
               drop=("Receptive field",))


def view(report: InspectReport, strict: bool = False) -> Group:
    """The whole ``inspect`` report as the terminal shows it."""
    m, i, d = report.model, report.input, report.device
    head = Text()
    head.append(m.name, style="bold")
    if m.description:
        head.append(f"  {m.description}", style="dim")
    if m.overridden:
        head.append(f"\nbuilt with {', '.join(m.overridden)} (over what the description says)", style="yellow")
    head.append(f"\n{m.parts_of}: " if m.parts_of else "\n")
    head.append(f"{m.backbone} → {m.neck}" + (f" → {m.head}" if m.head else ""))
    head.append(f" · input {i.batch}×{i.channels}×{i.height}×{i.width}")
    head.append(f" · {d.used} device")
    if d.used == "meta":
        head.append(" (shapes only, no compute)", style="dim")
    for note in report.all_notes:
        head.append(f"\nnote: {note}", style="yellow")
    parts: list[Any] = [_levels("Backbone levels", report, "backbone"), _levels("Pyramid levels", report, "neck")]
    parts.insert(0, head)
    if report.head_outputs:
        parts += head_tables(report)
    parts.append(Fit(cost_table(report), drop=("Element-wise ops", "Params %", "MACs %")))
    if report.roi_costs:
        parts.append(Fit(roi_table(report)))
    if report.memory is not None:
        mem = report.memory
        line = Text("Memory  ", style="bold")
        line.append(f"parameters and buffers {size_bytes(mem.params_bytes)} · activation peak "
                    f"{size_bytes(mem.activations_peak_bytes)}")
        line.append(f" · total {size_bytes(mem.total_bytes)}", style="bold")
        line.append(f"\n        {mem.method}, fp32", style="dim")
        parts.append(line)
    if report.level_costs:
        parts.append(Fit(level_cost_table(report), drop=("Share",)))
    parts += [Fit(part, drop=("How",)) if isinstance(part, Table) else part for part in size_parts(report.object_sizes)]
    notes = Text()
    if report.not_counted:
        listed = ", ".join(f"{n.op} ×{n.calls}" for n in report.not_counted)
        notes.append(f"Not counted (no cost formula): {listed}\n", style="yellow")
    if report.crosscheck:
        cc = report.crosscheck
        notes.append(
            f"Cross-check: {cc.backend} on a real {cc.device} forward counts {si(cc.macs)} MACs "
            f"of conv/linear/matmul; fpnscope counts {si(cc.ours)} ({cc.delta:+.2%}).\n"
        )
        if cc.skipped:
            notes.append(f"{cc.backend} skipped: " + ", ".join(f"{k} ×{v}" for k, v in cc.skipped.items()) + "\n",
                         style="dim")
    if notes:
        notes.rstrip()
        parts.append(notes)
    if report.modules:
        parts.append(Fit(module_table(report), drop=("Type", "Calls", "MACs %")))
    parts.append(findings_block(report.diagnostics, strict, report.model.corrected_title))
    return spaced(parts)


def render_inspect(report: InspectReport, console: Console, strict: bool = False) -> None:
    """Print the whole ``inspect`` report."""
    console.print(view(report, strict))
