"""Each report as plain tables (for CSV and Markdown): which tables, in which order."""

from __future__ import annotations

import math
from typing import Any

from fpnscope.render.compare import compare_tables
from fpnscope.render.fmt import shape
from fpnscope.render.graph import graph_tables
from fpnscope.render.plain import Cell, PlainTable
from fpnscope.render.sweep import sweep_tables
from fpnscope.reports.compare import CompareReport
from fpnscope.reports.graph import GraphReport
from fpnscope.reports.inspect import STAGES, InspectReport, Level
from fpnscope.reports.presets import PresetList
from fpnscope.reports.profile import ProfileReport
from fpnscope.reports.sweep import SweepReport


def tables_of(report: Any) -> list[PlainTable]:
    """The plain tables of any report, its CSV table first."""
    if isinstance(report, InspectReport):
        return inspect_tables(report)
    if isinstance(report, ProfileReport):
        return profile_tables(report)
    if isinstance(report, CompareReport):
        return compare_tables(report)
    if isinstance(report, SweepReport):
        return sweep_tables(report)
    if isinstance(report, GraphReport):
        return graph_tables(report)
    if isinstance(report, PresetList):
        return presets_tables(report)
    raise TypeError(f"no plain tables for a {type(report).__name__}")


def inspect_tables(report: InspectReport) -> list[PlainTable]:
    """Levels first (the CSV), then costs, per-level MACs and diagnostics."""
    def field(lvl: Level) -> Cell:
        return "global" if lvl.receptive_global else lvl.receptive_field

    rows: list[list[Cell]] = [
        ["backbone", lvl.name, shape(lvl.shape), lvl.stride, lvl.channels, "", field(lvl)] for lvl in report.backbone_levels
    ]
    rows += [["neck", lvl.name, shape(lvl.shape), lvl.stride, lvl.channels, " ".join(lvl.sources), field(lvl)]
             for lvl in report.levels]
    levels = PlainTable(
        "Levels",
        ["stage", "level", "shape", "stride", "channels", "fed_by", "receptive_field_px"],
        rows,
    )
    cost_rows: list[list[Cell]] = []
    for stage in STAGES:
        cost = report.stages.get(stage)
        if cost is not None:
            cost_rows.append([stage, cost.params, cost.macs, cost.flops, cost.elementwise])
    total = report.total
    cost_rows.append(["total", total.params, total.macs, total.flops, total.elementwise])
    costs = PlainTable("Cost", ["stage", "params", "macs", "flops", "elementwise_ops"], cost_rows)
    per_level = PlainTable(
        "MACs per level",
        ["level", "stride", *STAGES],
        [[lc.level if lc.level is not None else "other", lc.stride, *(lc.macs[s] for s in STAGES)] for lc in report.level_costs],
    )
    rois = PlainTable(
        "Per-RoI heads (MACs at rois are included in the head's total, in no level's)",
        ["stage", "module", "params", "macs_per_roi", "rois_per_image", "set_by", "rois", "macs", "flops",
         "elementwise_ops"],
        [[rc.stage, rc.module, rc.params, rc.per_roi_macs, rc.rois_per_image, f"head.{rc.option}", rc.rois, rc.macs,
          2 * rc.macs, rc.elementwise] for rc in report.roi_costs],
    )
    findings = PlainTable(
        "Diagnostics",
        ["severity", "code", "level", "message", "fix"],
        [[f.severity, f.code, f.level or "", f.message, f.hint] for f in report.diagnostics],
    )
    inp = report.input
    run = PlainTable(
        "Run",
        ["input", "device", "params_bytes", "activations_peak_bytes", "memory_method"],
        [[f"{inp.batch}×{inp.channels}×{inp.height}×{inp.width}", report.device.used,
          *((report.memory.params_bytes, report.memory.activations_peak_bytes, report.memory.method)
            if report.memory is not None else (None, None, None))]],
    )
    tables = [levels, run, costs, per_level, *([rois] if report.roi_costs else []), *size_tables(report), findings]
    notes = report.all_notes
    if notes:
        tables.insert(2, PlainTable("Notes", ["note"], [[note] for note in notes]))
    corrected = report.corrected
    if corrected:
        import yaml

        text = yaml.safe_dump(corrected, default_flow_style=None, sort_keys=False).strip()
        tables.append(PlainTable(report.model.corrected_title, ["yaml"], [[" · ".join(text.splitlines())]]))
    if report.modules:
        tables.append(PlainTable(
            "Modules",
            ["module", "type", "depth", "params", "macs", "elementwise_ops", "calls", "output"],
            [[m.name, m.type, m.depth, m.params, m.macs, m.elementwise, m.calls, m.shape] for m in report.modules],
        ))
    if report.head_outputs:
        tables.insert(1, PlainTable("Head outputs", ["output", "shape"], [[h.name, shape(h.shape)] for h in report.head_outputs]))
    return tables


def size_tables(report: InspectReport) -> list[PlainTable]:
    """Which objects each level serves: a table per rule, then object sides against levels."""
    sizes = report.object_sizes
    if sizes is None or not sizes.assignments:
        return []
    out = [PlainTable(f"Objects per level: {rule.label} ({rule.summary})",
                      ["level", "stride", "low_px", "high_px", "how", "receptive_field_px"],
                      [[lvl.level, lvl.stride, round(lvl.low, 1), None if math.isinf(lvl.high) else round(lvl.high, 1),
                        lvl.detail, "global" if lvl.receptive_global else lvl.receptive_field] for lvl in rule.levels])
           for rule in sizes.assignments]
    out.append(PlainTable("Object size → level", ["side_px", *[rule.label for rule in sizes.assignments]],
                          [[row.side, *(" ".join(row.levels[r.label]) or "none" for r in sizes.assignments)]
                           for row in sizes.rows]))
    return out


def profile_tables(report: ProfileReport) -> list[PlainTable]:
    """One row per (point, stage)."""
    rows: list[list[Cell]] = []
    for p in report.points:
        if p.status != "ok":
            rows.append([p.height, p.width, p.batch, p.status, "", *[None] * 9, p.message])
            continue
        for name, st in p.stages.items():
            t = st.timing
            rows.append([
                p.height, p.width, p.batch, p.status, name, t.median_ms, t.p10_ms, t.p90_ms, t.mean_ms, t.std_ms,
                round(st.throughput_ips, 3), st.flops, st.measured_peak_bytes, st.estimated_peak_bytes, "",
            ])
    headers = ["height", "width", "batch", "status", "stage", "median_ms", "p10_ms", "p90_ms", "mean_ms", "std_ms",
               "images_per_s", "flops", "measured_peak_bytes", "estimated_peak_bytes", "message"]
    return [PlainTable(f"Profile of {report.model} on {report.device.name}", headers, rows)]


def presets_tables(report: PresetList) -> list[PlainTable]:
    """The bundled presets."""
    return [
        PlainTable(
            "Bundled presets",
            ["name", "backbone", "neck", "head", "levels", "description"],
            [[p.name, p.backbone, p.neck, p.head or "", " ".join(p.levels or []), p.description] for p in report.presets],
        )
    ]
