"""SweepReport to rich: the points table (front and best marked), the points with problems, a
text scatter of the two Pareto metrics and a bar chart of the chosen metric; and its plain tables."""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from fpnscope.render.compare import levels_text, metric_label
from fpnscope.render.fmt import input_text, metric_value
from fpnscope.render.plain import Cell, PlainTable
from fpnscope.render.scatter import Dot, scatter
from fpnscope.render.tables import bars, figure, spaced, table
from fpnscope.reports.budget import LOWER_IS_BETTER
from fpnscope.reports.sweep import SweepPoint, SweepReport

_LEVEL = re.compile(r"([A-Za-z]+)(\d+)")


def value_text(value: Any) -> str:
    """A grid value for people: runs of levels shortened (``C3–C5``), sizes as ``800×1333``.

    >>> value_text(["C2", "C3", "C4", "C5"]), value_text(["C3", "C5"]), value_text("800x1333"), value_text(None)
    ('C2–C5', 'C3,C5', '800×1333', 'null')
    >>> value_text(["C4", "C5"]), value_text([64, 128])
    ('C4–C5', '64,128')
    """
    if isinstance(value, (list, tuple)):
        found = [_LEVEL.fullmatch(str(v)) for v in value]
        if len(value) > 1 and all(found):
            prefixes = {m.group(1) for m in found if m}
            numbers = [int(m.group(2)) for m in found if m]
            if len(prefixes) == 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
                return f"{value[0]}–{value[-1]}"
        return ",".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str) and re.fullmatch(r"\d+x\d+", value):
        return value.replace("x", "×")
    return str(value)


def point_name(report: SweepReport, point: SweepPoint) -> str:
    """``#7 bifpn 96 C3–C5``: the point's number and its grid values."""
    return f"#{point.index} " + " ".join(value_text(point.values.get(a.key)) for a in report.axes)


def _findings(point: SweepPoint) -> Text:
    if not (point.errors or point.warnings):
        return Text("—", style="dim")
    out = Text()
    if point.errors:
        out.append(f"✗{point.errors}", style="bold red")
    if point.warnings:
        out.append((" " if point.errors else "") + f"!{point.warnings}", style="yellow")
    return out


def _title(report: SweepReport) -> str:
    measured = len(report.points)
    title = f"{report.model}: {measured} point{'s' if measured != 1 else ''}"
    if report.interrupted:
        title += f" of {report.planned} (interrupted)"
    inputs = {p.input for p in report.points if p.input is not None}
    if len(inputs) == 1 and not any(a.key == "input" for a in report.axes):
        title += f" · input {input_text(inputs.pop())}"
    return title + (f" · timed on {report.device}" if report.profiled else " · meta device (no compute)")


HEADERS = {"params": "Params", "macs": "MACs", "flops": "FLOPs", "memory": "Memory", "latency": "Latency",
           "throughput": "img/s"}


def shown_metrics(report: SweepReport, squeeze: int = 0) -> list[str]:
    """The figures of the table: params and MACs, memory unless the points were timed (then latency
    and images/s), and any other metric the sweep was asked about; with less room (``squeeze`` 1 or
    more) memory goes, then (4) images/s, unless they were asked about."""
    asked = {*report.pareto, report.metric, report.sort, *(c.metric for c in report.where)}
    wanted = {"params", "macs", *(["latency", "throughput"] if report.profiled else ["memory"])}
    wanted -= {"memory"} if squeeze >= 1 else set()
    wanted -= {"throughput"} if squeeze >= 4 else set()
    return [m for m in HEADERS if m in wanted | asked]


def shown_points(report: SweepReport) -> list[SweepPoint]:
    """The rows of the table: the points that keep the constraints, and every point that failed
    (those outside the constraints are counted below the table, and kept in CSV and JSON)."""
    keep = set(report.satisfying)
    return [p for p in report.ordered() if not report.where or not p.candidate or p.index in keep]


def _figure_text(metric: str, value: float | None) -> str:
    # images/s carry their unit in the header, as the profile table's do
    return f"{value:,.1f}" if metric == "throughput" and value is not None else metric_value(metric, value)


def points_table(report: SweepReport, squeeze: int = 0, reasons: bool = True) -> Table:
    """One row per point that keeps the constraints (and every point that failed, with its reason).
    ``squeeze`` 1 leaves memory out (unless it was asked about), 2 also narrows the gaps between
    columns, 3 also leaves the levels out (the findings stay), 4 also images/s. Without ``reasons``, a failed
    point's row leaves its reason out (a reason wraps: it does not need the room of one line).
    """
    figures = shown_metrics(report, squeeze)
    columns: list[tuple[str, dict[str, Any]]] = [("#", {"justify": "right", "no_wrap": True})]
    columns += [(a.name, {"style": "yellow", "no_wrap": True}) for a in report.axes]
    columns += [(HEADERS[m], figure()) for m in figures]
    columns += [("Levels" if squeeze < 3 else "Findings", {})]
    out = table(_title(report), *columns)
    out.collapse_padding = squeeze >= 2
    front, best = set(report.front), report.best
    for p in shown_points(report):
        mark = Text("★", style="bold yellow") if p.index == best else Text("")
        mark += Text("●", style="bold green") if p.index in front else Text("")
        cells: list[Any] = [mark + Text((" " if mark else "") + str(p.index)),
                            *(value_text(p.values.get(a.key)) for a in report.axes)]
        if p.status != "ok":
            reason = (p.reason or "") if reasons else ""
            cells += [Text(p.status, style="bold red"), *[""] * (len(figures) - 1), Text(reason, style="red")]
        else:
            cells += [_figure_text(m, p.value(m)) for m in figures]
            found = _findings(p)
            levels = Text(levels_text(p.levels), style="cyan") + (Text(" ") + found if found.plain != "—" else Text())
            cells.append(levels if squeeze < 3 else found)
        out.add_row(*cells)
    x, y = report.pareto
    both = "lower" if LOWER_IS_BETTER[x] and LOWER_IS_BETTER[y] else "better"
    out.caption = (f"● on the Pareto front of {metric_label(x)} and {metric_label(y)} (no other point is {both} on "
                   f"both); ★ the best {metric_label(report.metric)}")
    out.caption += f" of the points that keep {', '.join(c.expression for c in report.where)}." if report.where else "."
    out.caption += (" Levels, then findings" if squeeze < 3 else " Findings") + ": ✗ errors, ! warnings."
    out.caption += " MACs: multiply-accumulates (FLOPs = 2 × MACs)"
    if "memory" in figures:
        out.caption += "; memory: parameters and the estimated activation peak of one inference pass"
    if report.profiled:
        out.caption += "; latency: median of the whole model"
    left_out = [name for name, gone in (("memory", "memory" not in figures), ("levels", squeeze >= 3),
                                        ("images/s", report.profiled and "throughput" not in figures)) if gone]
    out.caption += f". Left out for width: {', '.join(left_out)} (--format csv or --json has every column)." if left_out else "."
    return out


class FittedTable:
    """The points table at the most detail that fits the width it is drawn at (a pipe is 80
    columns unless COLUMNS says otherwise): memory goes first, then space, then the levels, so
    that no figure is ever cut."""

    def __init__(self, report: SweepReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update(max_width=10_000)  # a measurement is clamped to the width it is given
        squeeze = 0
        while squeeze < 4 and Measurement.get(console, unbounded, points_table(self.report, squeeze, reasons=False)
                                              ).maximum > options.max_width:
            squeeze += 1
        yield points_table(self.report, squeeze)


def summary(report: SweepReport) -> Text:
    """What the sweep concluded: the points with problems, the constraints, the best point."""
    lines = Text()
    for p in report.points:
        if p.status == "ok" and p.errors:
            lines.append(f"✗ {point_name(report, p)}: {p.reason}\n", style="red")
    failed = [p for p in report.points if p.status == "error"]
    if failed:
        lines.append(f"{len(failed)} point{'s' if len(failed) != 1 else ''} could not be measured: "
                     f"{', '.join(f'#{p.index}' for p in failed)} (the reason is in the row)\n", style="red")
    if report.where:
        keep = report.satisfying
        rules = ", ".join(c.expression for c in report.where)
        hidden = sum(p.candidate for p in report.points) - len(keep)
        lines.append(f"{len(keep)} of {len(report.points)} points keep {rules}"
                     + (f"; the {'other is' if hidden == 1 else f'{hidden} others are'} in --format csv and --json" if hidden else "")
                     + "\n", style="bold" if keep else "bold red")
    best = report.best
    if best is not None:
        point = report.points[best]
        lines.append(f"★ best {metric_label(report.metric)}: {point_name(report, point)} "
                     f"({metric_value(report.metric, point.value(report.metric))})\n", style="bold yellow")
    elif report.where:
        lines.append("no point keeps every constraint\n", style="bold red")
    if report.interrupted:
        lines.append(f"interrupted: {len(report.points)} of {report.planned} points measured\n", style="bold red")
    if report.device_note:
        lines.append(f"note: {report.device_note}\n", style="dim")
    lines.rstrip()
    return lines


def scatter_chart(report: SweepReport) -> Table:
    """The two Pareto metrics as a text scatter, the front and the best marked."""
    x, y = report.pareto
    front, best, keep = set(report.front), report.best, set(report.satisfying)
    dots = []
    for p in report.points:
        vx, vy = p.value(x), p.value(y)
        if not p.candidate or vx is None or vy is None:
            continue
        kind = "best" if p.index == best else "front" if p.index in front else (
            "point" if not report.where or p.index in keep else "outside")
        dots.append(Dot(float(vx), float(vy), kind, f"{p.index}" if kind in ("best", "front") else ""))
    drawing = scatter(dots, f"{metric_label(x)} →", f"↑ {metric_label(y)}", lambda v: metric_value(x, v),
                      lambda v: metric_value(y, v))
    out = table(f"{metric_label(y)} against {metric_label(x)} (labels: point numbers)", ("", {"no_wrap": True}))
    out.show_header = False
    out.add_row(drawing)
    return out


def view(report: SweepReport) -> Group:
    """The whole ``sweep`` report as the terminal shows it."""
    parts: list[Any] = [FittedTable(report) if shown_points(report) else Text(_title(report), style="bold")]
    text = summary(report)
    if text.plain:
        parts.append(text)
    if any(p.candidate for p in report.points):
        parts.append(scatter_chart(report))
        rows = [(point_name(report, p), p.value(report.metric)) for p in shown_points(report) if p.status == "ok"]
        if rows:
            parts.append(bars(f"{metric_label(report.metric)} by point", rows,
                              lambda value: metric_value(report.metric, value)))
    return spaced(parts)


def _cell(value: Any) -> Cell:
    """A CSV cell: numbers stay numbers; a list or mapping as JSON, so that it reads back."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return json.dumps(value)


def sweep_tables(report: SweepReport) -> list[PlainTable]:
    """Every point as one flat row (the CSV: raw counts, bytes, ms), then a table for people."""
    rows = report.rows()
    headers = list(rows[0]) if rows else ["point", *(a.key for a in report.axes), "status"]
    title = f"Sweep of {report.model}" + (f" (interrupted: {len(rows)} of {report.planned} points)"
                                           if report.interrupted else "")
    flat = PlainTable(title, headers, [[_cell(v) for v in row.values()] for row in rows])
    metrics = ["params", "macs", "memory", *(["latency", "throughput"] if report.profiled else [])]
    front, best = set(report.front), report.best
    people = PlainTable(
        "Points (★ best, ● Pareto front)",
        ["point", *(a.name for a in report.axes), *metrics, "findings", "levels"],
        [[(("★" if p.index == best else "") + ("●" if p.index in front else "") + " " + str(p.index)).strip(),
          *(value_text(p.values.get(a.key)) for a in report.axes),
          *((metric_value(m, p.value(m)) for m in metrics) if p.status == "ok" else [p.status, *[""] * (len(metrics) - 1)]),
          _findings(p).plain, levels_text(p.levels) if p.status == "ok" else p.reason or ""]
         for p in report.ordered()],
    )
    return [flat, people]
