"""Findings in the terminal: grouped by level, errors first, each with its fix, then the corrected
YAML to paste."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fpnscope.reports.findings import SEVERITY_ORDER, Finding, merge_fixes

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "i"}


def group_findings(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by level ('model' for model-wide ones); groups holding an error first,
    and within a group errors first."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.level or "model", []).append(f)
    ranked = sorted(groups.items(), key=lambda kv: min(SEVERITY_ORDER[f.severity] for f in kv[1]))
    return [(level, sorted(items, key=lambda f: SEVERITY_ORDER[f.severity])) for level, items in ranked]


def crash_text(finding: Finding) -> Group:
    """A forward that raised, laid out: what failed where, the line, each operand, the arithmetic
    (a grid, so a long line folds under its own column)."""
    facts = finding.facts
    source = facts.get("source") or {}
    headline = Text(finding.title or finding.message)
    headline.append(" [forward-error]", style="dim")
    rows: list[tuple[str, str, str]] = []
    if source:
        rows.append((f"{source['where']}", source.get("text", ""), ""))
    names = "abcdefgh"
    operands = [o for o in facts.get("operands", []) if o.get("made") != "parameter"]
    if facts.get("rule") in ("broadcast", "concat", "elements", "elements-multiple", "inner"):
        for i, operand in enumerate(operands[: len(names)]):
            rows.append((names[i], str(operand["what"]), "×".join(map(str, operand["shape"]))))
    explained = facts.get("explained")
    if explained:
        chain = f"{' → '.join(map(str, explained['chain']))}, and " if explained["chain"] else ""
        rows.append(("why", f"{facts.get('dim', '')}: {chain}{explained['because']}", ""))
    elif facts.get("sizes") and facts.get("dim"):  # no chain of levels explains it: the sizes alone
        rows.append(("why", f"{facts['dim']} disagree: {' vs '.join(map(str, facts['sizes']))}", ""))
    what = max((len(body) for label, body, _ in rows if label in names), default=0)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    for label, body, shape in rows:
        cell = Text(body if not shape else f"{body:<{what}}  ", style="bold" if label == source.get("where") else "")
        if shape:
            cell.append(shape, style="cyan")
        grid.add_row(label, "│", cell)
    return Group(headline, grid)


def findings_block(findings: list[Finding], strict: bool = False,
                   corrected: str = "Corrected YAML (merge into your file)") -> Group | Text:
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
            mark = Text(f"{SEVERITY_MARK[f.severity]} {f.severity}", style=SEVERITY_STYLE[f.severity])
            fix = Text(f"fix: {f.hint}", style="dim")
            if f.code == "forward-error":
                body: Group | Text = Group(crash_text(f), fix)
            else:
                body = Text(f.message)
                body.append(f" [{f.code}]", style="dim")
                body.append("\n")
                body.append_text(fix)
            grid.add_row(level if i == 0 else "", mark, body)
    parts: list[Any] = [title, grid]
    patch = merge_fixes(findings)
    if patch:
        import yaml  # only needed here

        text = yaml.safe_dump(patch, default_flow_style=None, sort_keys=False).rstrip()
        parts.append(Text(f"\n{corrected}:", style="bold"))
        parts.append(Text("\n".join("  " + ln for ln in text.splitlines()), style="green"))
    return Group(*parts)
