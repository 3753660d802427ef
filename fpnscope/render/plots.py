"""Charts as figures and files, with matplotlib (the optional ``plot`` extra): a sweep's two Pareto
metrics with the front joined and labelled, and a comparison's MACs per level as grouped bars.

Figures are made without pyplot, so nothing is registered globally (no backend to pick, no figure
kept alive by a manager, a script's own figures left alone).
"""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile
from typing import Any

from fpnscope.errors import ConfigError, missing_extra
from fpnscope.render.compare import metric_label
from fpnscope.render.fmt import metric_value
from fpnscope.render.sweep import point_name
from fpnscope.reports.compare import CompareReport
from fpnscope.reports.sweep import SweepReport

SUFFIXES = (".svg", ".png", ".pdf")
COLOURS = {"point": "#8d99a6", "outside": "#c9d1d9", "front": "#2a9d5c", "best": "#e9a300"}
# fixed ids and no dates, so that the same report writes the same file
_METADATA = {".svg": {"Date": None}, ".png": {"Software": None}, ".pdf": {"CreationDate": None}}


def _figure(**options: Any) -> Any:
    """A new matplotlib Figure; the error names the extra when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_extra("matplotlib", "plot", "«plot»") from None
    return Figure(**options)


def check_plot_path(path: str) -> None:
    """Refuse, before any work, a chart file that cannot be written."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"«plot» {path}: give a file ending in .svg, .png or .pdf", option="plot")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"«plot» {path}: the folder {folder} does not exist", option="plot")
    if importlib.util.find_spec("matplotlib") is None:
        raise missing_extra("matplotlib", "plot", "«plot»")


def save(figure: Any, path: str) -> None:
    """Write ``figure`` to ``path`` (its format from the suffix) through a temporary file and a rename."""
    from matplotlib import rc_context

    check_plot_path(path)
    suffix = os.path.splitext(path)[1].lower()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".fpnscope-", suffix=suffix)
    os.close(fd)
    try:
        with rc_context({"svg.hashsalt": "fpnscope"}):
            figure.savefig(tmp, format=suffix[1:], metadata=_METADATA[suffix], dpi=150)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as a plain open() would create it, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def svg_text(figure: Any) -> str:
    """``figure`` as SVG text (for a notebook)."""
    from matplotlib import rc_context

    out = io.StringIO()
    with rc_context({"svg.hashsalt": "fpnscope", "svg.fonttype": "none"}):  # text as text: a small document
        figure.savefig(out, format="svg", metadata=_METADATA[".svg"])
    text = out.getvalue()
    return text[text.find("<svg"):]  # the element alone, to sit inside a page


def _axis(axis: Any, metric: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: metric_value(metric, value)))


def sweep_figure(report: SweepReport, path: str | None = None) -> Any:
    """Every measured point of the sweep on its two Pareto metrics: the front joined and labelled,
    the best starred, points outside the constraints pale."""
    figure = _figure(figsize=(8, 5.2), layout="constrained")
    ax = figure.add_subplot()
    x, y = report.pareto
    front, best, keep = report.front, report.best, set(report.satisfying)
    groups: dict[str, list[tuple[float, float]]] = {"point": [], "outside": []}
    for p in report.points:
        vx, vy = p.value(x), p.value(y)
        if not p.candidate or vx is None or vy is None or p.index in front:
            continue
        groups["point" if not report.where or p.index in keep else "outside"].append((vx, vy))
    labels = {"point": "other points", "outside": "outside " + ", ".join(c.expression for c in report.where)}
    for kind, xy in groups.items():
        if xy:
            ax.scatter([a for a, _ in xy], [b for _, b in xy], s=28, color=COLOURS[kind], label=labels[kind], zorder=2)
    on_front = sorted((report.points[i] for i in front), key=lambda p: p.value(x) or 0)
    if on_front:
        ax.plot([p.value(x) for p in on_front], [p.value(y) for p in on_front], "-o", color=COLOURS["front"],
                markersize=6, label="Pareto front", zorder=3)
    if best is not None:
        point = report.points[best]
        ax.scatter([point.value(x)], [point.value(y)], marker="*", s=260, color=COLOURS["best"], edgecolors="black",
                   linewidths=0.6, label=f"best {metric_label(report.metric)}", zorder=4)
    for p in (report.points[i] for i in sorted({*front, *([best] if best is not None else [])})):
        ax.annotate(point_name(report, p), (p.value(x), p.value(y)), xytext=(7, 5), textcoords="offset points",
                    fontsize=8, bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
                    zorder=5)
    _axis(ax.xaxis, x)
    _axis(ax.yaxis, y)
    ax.set_xlabel(metric_label(x) + (" (multiply-accumulates)" if x == "macs" else ""))
    ax.set_ylabel(metric_label(y) + (" (multiply-accumulates)" if y == "macs" else ""))
    ax.set_title(f"{report.model}: {len(report.points)} points, {metric_label(y)} against {metric_label(x)}",
                 fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if path is not None:
        save(figure, path)
    return figure


def compare_figure(report: CompareReport, path: str | None = None) -> Any:
    """MACs at each level's resolution, one bar per variant in each level's group."""
    ok = [v for v in report.variants if v.status == "ok"]
    strides = sorted({s for v in ok for s in v.level_macs if any(w.level_macs.get(s) for w in ok)})
    strides = [*(s for s in strides if s), *(s for s in strides if not s)]  # "other" last
    figure = _figure(figsize=(min(11.0, 3.0 + 0.5 * len(strides) * max(2, len(ok))), 4.6), layout="constrained")
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(ok))
    for i, v in enumerate(ok):
        offsets = [j + (i - (len(ok) - 1) / 2) * width for j in range(len(strides))]
        ax.bar(offsets, [v.level_macs.get(s, 0) for s in strides], width, label=v.name, zorder=2)
    ax.set_xticks(range(len(strides)), [f"{s.bit_length() - 1} (/{s})" if s else "other" for s in strides])
    _axis(ax.yaxis, "macs")
    ax.set_xlabel("level (stride)")
    ax.set_ylabel("MACs (multiply-accumulates)")
    ax.set_title(f"MACs per level, {len(ok)} variants", fontsize=11)
    ax.grid(axis="y", alpha=0.3, zorder=0)
    ax.legend(fontsize=8)
    if path is not None:
        save(figure, path)
    return figure
