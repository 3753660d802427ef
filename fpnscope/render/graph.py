"""GraphReport to rich: a summary, the lineage of each output level, and every node in order."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from fpnscope.render.fit import Fit
from fpnscope.render.fmt import shape
from fpnscope.render.plain import PlainTable
from fpnscope.render.tables import spaced, table
from fpnscope.reports.graph import GraphNode, GraphReport

ROLE_STYLE = {
    "input": "bold cyan", "lateral": "blue", "top-down": "magenta", "bottom-up": "yellow", "fusion": "bold green",
    "transform": "white", "upsample": "magenta", "downsample": "yellow", "error": "bold red",
}
TREE_LIMIT = 40  # nodes; bigger graphs (a BiFPN of three layers) are shown as the table only


def _node_text(node: GraphNode) -> Text:
    text = Text(f"#{node.id} ", style="dim")
    text.append(node.role, style=ROLE_STYLE.get(node.role, ""))
    text.append(f" {node.label if node.kind != 'input' else ''}".rstrip())
    text.append(f"  {shape(node.shape)}", style="dim")
    return text


def summary_text(report: GraphReport) -> Text:
    """One line of counts: lateral, top-down, bottom-up, fusion nodes by inputs..."""
    counts = report.summary()
    parts = []
    nouns = {"input": ("input", "inputs"), "fusion": ("fusion node", "fusion nodes")}
    for role in ("input", "lateral", "top-down", "bottom-up", "fusion", "transform", "upsample", "downsample", "error"):
        if counts.get(role):
            one, many = nouns.get(role, (role, role))
            label = f"{counts[role]} {one if counts[role] == 1 else many}"
            if role == "fusion":
                by_inputs = sorted(Counter(len(n.inputs) for n in report.nodes if n.role == "fusion").items())
                label += ": " + ", ".join(f"{v} with {n} input{'s' if n != 1 else ''}" for n, v in by_inputs)
            parts.append(Text(label, style=ROLE_STYLE[role]))
    line = Text(f"{report.neck} neck of {report.model}: ", style="bold")
    return line + Text(" · ").join(parts)


def lineage(report: GraphReport) -> Tree:
    """Each output level with the nodes it is computed from; a node already drawn is referenced."""
    root = Tree(Text("Output levels and where they come from", style="bold"), guide_style="dim")
    shown: set[int] = set()
    by_id = {n.id: n for n in report.nodes}

    def grow(branch: Tree, node_id: int) -> None:
        node = by_id[node_id]
        if node.id in shown and node.kind != "input":
            branch.add(Text(f"#{node.id} (above)", style="dim"))
            return
        shown.add(node.id)
        child = branch.add(_node_text(node) if node.kind != "input" else Text(f"{node.label} {shape(node.shape)}", style="bold cyan"))
        for source in node.inputs:
            grow(child, source)

    for level, node_id in report.outputs.items():
        label = Text(f"{level} ", style="bold") + Text(shape(report.output_shapes[level]), style="dim")
        branch = root.add(label)
        if node_id is not None:
            grow(branch, node_id)
    return root


def node_table(report: GraphReport) -> Table:
    """Every node in the order it ran, with the nodes it reads."""
    out = table("Nodes in the order they run", ("#", {"justify": "right", "style": "dim"}), ("Role", {}),
                   ("Node", {"ratio": 1}), ("Level", {}), ("Shape", {"no_wrap": True}), ("From", {}))
    by_id = {n.id: n for n in report.nodes}
    outputs = {v: k for k, v in report.outputs.items() if v is not None}
    for node in report.nodes:
        sources = " ".join(by_id[i].label if by_id[i].kind == "input" else f"#{i}" for i in node.inputs)
        label = Text(node.label)
        if node.id in outputs:
            label.append(f"  → {outputs[node.id]}", style="bold")
        out.add_row(str(node.id), Text(node.role, style=ROLE_STYLE.get(node.role, "")), label, node.level,
                      shape(node.shape), sources)
    return out


def view(report: GraphReport) -> Group:
    """The whole ``graph`` report as the terminal shows it."""
    parts: list[Any] = [summary_text(report)]
    if report.error:
        failing = next((n for n in reversed(report.nodes) if n.role == "error"), None)
        line = Text(f"✗ {report.error}", style="bold red")
        if failing is not None:
            line.append(f"\n  node #{failing.id}: {failing.label}", style="red")
        parts.append(line)
    if report.error:
        pass  # no output levels to trace back: the table shows every node up to the failing one
    elif len(report.nodes) <= TREE_LIMIT:
        parts.append(lineage(report))
    else:
        parts.append(Text(f"The lineage tree of each output is left out: {len(report.nodes)} nodes (more than "
                          f"{TREE_LIMIT}) would repeat shared paths many times; the table lists every node "
                          "with its inputs.", style="dim"))
    parts.append(Fit(node_table(report), drop=("Level",)))
    parts.append(Text("Derived from the neck's forward on meta tensors: blocks of layers, fusions and resizes "
                      "as they ran.", style="dim"))
    return spaced(parts)


def render_graph(report: GraphReport, console: Console) -> None:
    """Print the whole ``graph`` report."""
    console.print(view(report))


def graph_tables(report: GraphReport) -> list[PlainTable]:
    """The nodes (the CSV), then the outputs."""
    outputs = {v: k for k, v in report.outputs.items() if v is not None}
    nodes = PlainTable(
        f"Dataflow of the {report.neck} neck",
        ["id", "role", "kind", "label", "level", "shape", "inputs", "output"],
        [[n.id, n.role, n.kind, n.label, n.level, shape(n.shape), " ".join(map(str, n.inputs)), outputs.get(n.id, "")]
         for n in report.nodes],
    )
    outs = PlainTable("Outputs", ["level", "node", "shape"],
                      [[k, v, shape(report.output_shapes[k])] for k, v in report.outputs.items()])
    return [nodes, outs]
