"""Reports to rich terminal output. The only module that formats for people."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fpnscope.fmt import shape, share, si, size_bytes
from fpnscope.report import STAGES, Finding, InspectReport, Level, merge_fixes

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "i"}


def _table(title: str, *columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        caption_justify="left",
        caption_style="dim",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name, opts in columns:
        table.add_column(name, **opts)
    return table


def _right() -> dict[str, Any]:
    return {"justify": "right"}


def _figure() -> dict[str, Any]:
    """A right-aligned column that never breaks its cells (a value, or a value and its delta)."""
    return {"justify": "right", "no_wrap": True}


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
    table.caption = (
        "MACs = multiply-accumulates of conv, linear and matmul; FLOPs = 2 × MACs. Element-wise ops "
        "(adds, resizes, pooling, norms, activations) are counted apart."
    )
    return table


def head_table(report: InspectReport) -> Table:
    """The head's outputs: one row per level when they are per level (``cls P3``), else by name."""
    title = f"Head outputs ({report.model.head})"
    split = [out.name.split(" ", 1) for out in report.head_outputs]
    if all(len(parts) == 2 for parts in split):
        keys = list(dict.fromkeys(k for k, _ in split))
        levels = list(dict.fromkeys(lvl for _, lvl in split))
        shapes = {(k, lvl): out.shape for (k, lvl), out in zip(split, report.head_outputs)}
        table = _table(title, ("Level", {"style": "bold"}), *[(k, {}) for k in keys])
        for lvl in levels:
            table.add_row(lvl, *[shape(shapes[(k, lvl)]) if (k, lvl) in shapes else "" for k in keys])
        return table
    table = _table(title, ("Output", {"style": "bold"}), ("Shape", {}))
    for out in report.head_outputs:
        table.add_row(out.name, shape(out.shape))
    return table


def level_cost_table(report: InspectReport) -> Table:
    """MACs per level and stage, by the resolution each op ran at."""
    stages = [s for s in STAGES if report.stages.get(s) is not None]
    table = _table(
        "MACs per level (by the resolution each op runs at)",
        ("Level", {"style": "bold"}),
        ("Stride", _right()),
        *[(stage.capitalize(), _right()) for stage in stages],
        ("Total", _right()),
        ("Share", _right()),
    )
    total = report.total.macs
    for row in report.level_costs:
        level_total = sum(row.macs[s] for s in stages)
        if not level_total:
            continue  # element-wise only: in the JSON, not worth a row here
        if row.level is None:
            table.caption = "other: ops on no level's grid (pooled maps, windows)"
        table.add_row(
            str(row.level) if row.level is not None else "other",
            str(row.stride) if row.stride is not None else "",
            *[si(row.macs[s]) if row.macs[s] else "" for s in stages],
            si(level_total),
            share(level_total, total),
        )
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
    if any(row.calls > 1 for row in report.modules):
        table.caption = "Calls: shown for a module run more than once (a head shared across levels); its output is its first call's."
    return table


def group_findings(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by level ('model' for model-wide ones); groups holding an error first,
    and within a group errors first."""
    order = {"error": 0, "warning": 1, "info": 2}
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.level or "model", []).append(f)
    ranked = sorted(groups.items(), key=lambda kv: min(order[f.severity] for f in kv[1]))
    return [(level, sorted(items, key=lambda f: order[f.severity])) for level, items in ranked]


def findings_block(findings: list[Finding], strict: bool = False) -> Group | Text:
    """Diagnostics by level, errors first, each with its fix and, when mechanical, the YAML to paste."""
    if not findings:
        return Text("✓ no alignment problems found", style="green")
    counts = {sev: sum(f.severity == sev for f in findings) for sev in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {sev}{'s' if n > 1 else ''}" for sev, n in counts.items() if n)
    title = Text("Diagnostics", style="bold")
    title.append(f"  {summary}" + (" (--strict: warnings count as errors)" if strict else ""), style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(no_wrap=True)
    grid.add_column()
    for level, items in group_findings(findings):
        for i, f in enumerate(items):
            mark = Text(f"{_SEVERITY_MARK[f.severity]} {f.severity}", style=_SEVERITY_STYLE[f.severity])
            body = Text(f.message)
            body.append(f" [{f.code}]", style="dim")
            body.append(f"\nfix: {f.hint}", style="dim")
            grid.add_row(level if i == 0 else "", mark, body)
    parts: list[Any] = [title, grid]
    patch = merge_fixes(findings)
    if patch:
        import yaml  # only needed here

        text = yaml.safe_dump(patch, default_flow_style=None, sort_keys=False).rstrip()
        parts.append(Text("\nCorrected YAML (merge into your file):", style="bold"))
        parts.append(Text("\n".join("  " + ln for ln in text.splitlines()), style="green"))
    return Group(*parts)


def _print_spaced(console: Console, parts: list[Any]) -> None:
    """Print parts one after another with a blank line between them (a table without a caption
    ends with a blank line of its own)."""
    for i, part in enumerate(parts):
        prev = parts[i - 1] if i else None
        if prev is not None and not (isinstance(prev, Table) and not prev.caption):
            console.print()
        console.print(part)


def render_inspect(report: InspectReport, console: Console, strict: bool = False) -> None:
    """Print the whole ``inspect`` report."""
    m, i, d = report.model, report.input, report.device
    head = Text()
    head.append(m.name, style="bold")
    if m.description:
        head.append(f"  {m.description}", style="dim")
    head.append(f"\n{m.backbone} → {m.neck}" + (f" → {m.head}" if m.head else ""))
    head.append(f" · input {i.batch}×{i.channels}×{i.height}×{i.width}")
    head.append(f" · {d.used} device")
    if d.used == "meta":
        head.append(" (shapes only, no compute)", style="dim")
    if d.note:
        head.append(f"\nnote: {d.note}", style="yellow")
    parts: list[Any] = [head, level_table("Backbone levels", report.backbone_levels)]
    parts.append(level_table("Pyramid levels", report.levels, with_sources=True))
    if report.head_outputs:
        parts.append(head_table(report))
    parts.append(cost_table(report))
    if report.memory is not None:
        mem = report.memory
        line = Text("Memory  ", style="bold")
        line.append(f"parameters and buffers {size_bytes(mem.params_bytes)} · activation peak "
                    f"{size_bytes(mem.activations_peak_bytes)}")
        line.append(f" · total {size_bytes(mem.total_bytes)}", style="bold")
        line.append(f"\n        {mem.method}, fp32", style="dim")
        parts.append(line)
    if report.level_costs:
        parts.append(level_cost_table(report))
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
        parts.append(module_table(report))
    parts.append(findings_block(report.diagnostics, strict))
    _print_spaced(console, parts)


def render_presets(rows: list[dict[str, Any]], console: Console, level_range: Any) -> None:
    """The ``presets list`` table: name and description, the model, the pyramid levels."""
    table = _table(
        f"{len(rows)} bundled presets",
        ("Preset", {"ratio": 3}),
        ("Model", {"ratio": 2}),
        ("Levels", {"no_wrap": True}),
    )
    for row in rows:
        label = Text(row["name"], style="bold")
        if row["description"]:
            label.append("\n" + row["description"], style="dim")
        model = Text(row["backbone"])
        model.append("\n" + row["neck"] + (f" + {row['head']} head" if row.get("head") else ""), style="cyan")
        table.add_row(label, model, level_range(row["levels"]))
    console.print(table)
    console.print(Text("`fpnscope presets show NAME` prints one; `fpnscope inspect NAME` analyses it.", style="dim"))
