"""Reports as plain tables, for CSV and Markdown (the rich renderers draw the terminal view).

Numbers stay numbers here (raw counts, milliseconds) so a spreadsheet can compute with them; the
first table of each report is its CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fpnscope.fmt import shape
from fpnscope.report import STAGES, InspectReport, merge_fixes
from fpnscope.report_profile import ProfileReport

Cell = str | int | float | None


@dataclass(frozen=True)
class PlainTable:
    """A titled table of cells."""

    title: str
    headers: list[str]
    rows: list[list[Cell]]


def inspect_tables(report: InspectReport) -> list[PlainTable]:
    """Levels first (the CSV), then costs, per-level MACs and diagnostics."""
    levels = PlainTable(
        "Levels",
        ["stage", "level", "shape", "stride", "channels", "fed_by"],
        [["backbone", lvl.name, shape(lvl.shape), lvl.stride, lvl.channels, ""] for lvl in report.backbone_levels]
        + [["neck", lvl.name, shape(lvl.shape), lvl.stride, lvl.channels, " ".join(lvl.sources)] for lvl in report.levels],
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
    tables = [levels, run, costs, per_level, findings]
    corrected = merge_fixes(report.diagnostics)
    if corrected:
        import yaml

        text = yaml.safe_dump(corrected, default_flow_style=None, sort_keys=False).strip()
        tables.append(PlainTable("Corrected YAML (merge into your file)", ["yaml"], [[" · ".join(text.splitlines())]]))
    if report.modules:
        tables.append(PlainTable(
            "Modules",
            ["module", "type", "depth", "params", "macs", "elementwise_ops", "calls", "output"],
            [[m.name, m.type, m.depth, m.params, m.macs, m.elementwise, m.calls, m.shape] for m in report.modules],
        ))
    if report.head_outputs:
        tables.insert(1, PlainTable("Head outputs", ["output", "shape"], [[h.name, shape(h.shape)] for h in report.head_outputs]))
    return tables


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


def presets_tables(rows: Sequence[dict[str, Any]]) -> list[PlainTable]:
    """The bundled presets."""
    return [
        PlainTable(
            "Bundled presets",
            ["name", "backbone", "neck", "head", "levels", "description"],
            [[r["name"], r["backbone"], r["neck"], r["head"] or "", " ".join(r["levels"] or []), r["description"]] for r in rows],
        )
    ]


def to_csv(tables: Sequence[PlainTable]) -> str:
    """The first table as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(tables[0].headers)
    writer.writerows(["" if c is None else c for c in row] for row in tables[0].rows)
    return out.getvalue()


def _md(cell: Cell) -> str:
    """A cell for people: thousands separated, floats to four significant figures.

    >>> [_md(c) for c in (26_852_416, 33.235224000236485, 0.13184958850630052, 12345.678, None)]
    ['26,852,416', '33.24', '0.1318', '12,346', '']
    """
    if cell is None:
        text = ""
    elif isinstance(cell, bool) or not isinstance(cell, (int, float)):
        text = str(cell)
    elif abs(cell) >= 10_000:
        text = f"{cell:,.0f}"
    elif isinstance(cell, float):
        text = f"{cell:.4g}"
    else:
        text = str(cell)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(tables: Sequence[PlainTable], title: str | None = None) -> str:
    """Every table under its own heading.

    >>> print(to_markdown([PlainTable("T", ["a", "b"], [[1, 25000]])]).strip())
    ### T
    <BLANKLINE>
    | a | b |
    |---|---|
    | 1 | 25,000 |
    """
    parts = [f"## {title}\n"] if title else []
    for table in tables:
        if not table.rows:
            continue
        parts.append(f"### {table.title}\n")
        parts.append("| " + " | ".join(table.headers) + " |")
        parts.append("|" + "---|" * len(table.headers))
        parts.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows)
        parts.append("")
    return "\n".join(parts) + "\n"
