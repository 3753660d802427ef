"""Reports to rich terminal output. The only module that formats for people."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fpnscope.fmt import shape, share, si
from fpnscope.report import STAGES, Finding, InspectReport, Level

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "i"}


def _table(title: str, *columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, opts in columns:
        table.add_column(name, **opts)
    return table


def _right() -> dict[str, Any]:
    return {"justify": "right"}


def level_table(title: str, levels: Iterable[Level], with_sources: bool = False) -> Table:
    """Name, shape, stride, channels (and which inputs fed each level)."""
    columns = [("Level", {"style": "bold"}), ("Shape (N×C×H×W)", {}), ("Stride", _right()), ("Channels", _right())]
    if with_sources:
        columns.append(("Fed by", {}))
    table = _table(title, *columns)
    for lvl in levels:
        row = [lvl.name, shape(lvl.shape), str(lvl.stride), str(lvl.channels)]
        if with_sources:
            row.append(" ".join(lvl.sources) or "—")
        table.add_row(*row)
    return table


def cost_table(report: InspectReport) -> Table:
    """Params, MACs, FLOPs and element-wise ops per stage, with shares of the total."""
    total = report.total
    table = _table(
        "Cost",
        ("Stage", {"style": "bold"}),
        ("Params", _right()),
        ("Params %", _right()),
        ("MACs", _right()),
        ("FLOPs (2×MACs)", _right()),
        ("MACs %", _right()),
        ("Element-wise ops", _right()),
    )
    for stage in STAGES:
        cost = report.stages.get(stage)
        if cost is None:
            table.add_row(stage, Text(f"no {stage}", style="dim"), "", "", "", "", "")
            continue
        table.add_row(
            stage,
            si(cost.params),
            share(cost.params, total.params),
            si(cost.macs),
            si(cost.flops),
            share(cost.macs, total.macs),
            si(cost.elementwise),
        )
    table.add_section()
    table.add_row("total", si(total.params), "", si(total.macs), si(total.flops), "", si(total.elementwise), style="bold")
    return table


def module_table(report: InspectReport) -> Table:
    """The per-module breakdown (``--depth``)."""
    total = report.total.macs
    table = _table(
        "Modules",
        ("Module", {}),
        ("Type", {"style": "dim"}),
        ("Output", {}),
        ("Params", _right()),
        ("MACs", _right()),
        ("MACs %", _right()),
        ("Calls", _right()),
    )
    for row in report.modules:
        indent = "  " * (row.depth - 1)
        table.add_row(
            indent + row.name.rsplit(".", 1)[-1] if row.depth > 1 else row.name,
            row.type,
            row.shape,
            si(row.params) if row.params else "",
            si(row.macs) if row.macs else "",
            share(row.macs, total) if row.macs else "",
            str(row.calls) if row.calls > 1 else "",
        )
    return table


def findings_block(findings: list[Finding]) -> Group | Text:
    """Diagnostics, errors first, each with its fix and, when mechanical, the YAML to paste."""
    if not findings:
        return Text("✓ no alignment problems found", style="green")
    order = {"error": 0, "warning": 1, "info": 2}
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for f in sorted(findings, key=lambda f: (order[f.severity], f.level or "")):
        mark = Text(f"{_SEVERITY_MARK[f.severity]} {f.severity}", style=_SEVERITY_STYLE[f.severity])
        body = Text()
        if f.level:
            body.append(f"{f.level} ", style="bold")
        body.append(f.message)
        body.append(f" [{f.code}]", style="dim")
        body.append(f"\nfix: {f.hint}", style="dim")
        grid.add_row(mark, body)
    parts: list[Any] = [Text("Diagnostics", style="bold"), grid]
    for fix in dict.fromkeys(f.fix for f in findings if f.fix):
        parts.append(Text("Corrected YAML:", style="bold"))
        parts.append(Text("\n".join("  " + ln for ln in fix.splitlines()), style="green"))
    return Group(*parts)


def render_inspect(report: InspectReport, console: Console) -> None:
    """Print the whole ``inspect`` report."""
    m, i, d = report.model, report.input, report.device
    head = Text()
    head.append(m.name, style="bold")
    if m.description:
        head.append(f"  {m.description}", style="dim")
    console.print(head)
    info = Text()
    info.append(f"{m.backbone} → {m.neck}" + (f" → {m.head}" if m.head else ""))
    info.append(f" · input {i.batch}×{i.channels}×{i.height}×{i.width}")
    info.append(f" · {d.used} device")
    if d.used == "meta":
        info.append(" (shapes only, no compute)", style="dim")
    console.print(info)
    if d.note:
        console.print(Text(f"note: {d.note}", style="yellow"))
    console.print()
    console.print(level_table("Backbone levels", report.backbone_levels))
    console.print(level_table("Pyramid levels", report.levels, with_sources=True))
    console.print(cost_table(report))
    console.print(
        Text(
            "MACs = multiply-accumulates of conv, linear and matmul; FLOPs = 2 × MACs. Element-wise ops "
            "(adds, resizes, pooling, norms, activations) are counted apart.",
            style="dim",
        )
    )
    if report.not_counted:
        listed = ", ".join(f"{n.op} ×{n.calls}" for n in report.not_counted)
        console.print(Text(f"Not counted (no cost formula): {listed}", style="yellow"))
    if report.crosscheck:
        cc = report.crosscheck
        console.print(
            Text(
                f"Cross-check: {cc.backend} on a real {cc.device} forward counts {si(cc.macs)} MACs "
                f"of conv/linear/matmul; fpnscope counts {si(cc.ours)} ({cc.delta:+.2%}). "
                + (f"{cc.backend} skipped: " + ", ".join(f"{k} ×{v}" for k, v in cc.skipped.items()) if cc.skipped else ""),
            )
        )
    if report.modules:
        console.print()
        console.print(module_table(report))
    console.print()
    console.print(findings_block(report.diagnostics))


def render_presets(rows: list[dict[str, Any]], console: Console, level_range: Any) -> None:
    """The ``presets list`` table: each preset's name with its description under it."""
    table = _table(
        f"{len(rows)} bundled presets",
        ("Preset", {"ratio": 1}),
        ("Backbone", {"no_wrap": True}),
        ("Neck", {"no_wrap": True}),
        ("Levels", {"no_wrap": True}),
    )
    for row in rows:
        neck = row["neck"] + (f" + {row['head']}" if row.get("head") else "")
        label = Text(row["name"], style="bold")
        if row["description"]:
            label.append("\n" + row["description"], style="dim")
        table.add_row(label, row["backbone"], neck, level_range(row["levels"]))
    console.print(table)
    console.print(Text("`fpnscope presets show NAME` prints one; `fpnscope inspect NAME` analyses it.", style="dim"))
