"""A neck's dataflow graph as an SVG drawing, with the standard library alone (no graphviz).

Laid out like FPN papers: a row per pyramid level (finest on top), a column per
dataflow depth (inputs on the left, output levels on the right).
"""

from __future__ import annotations

import html
import itertools
import json
import zlib
from collections import Counter
from typing import Any, NamedTuple

# Fill and stroke per role; unknown roles fall back to grey.
ROLE_COLOURS: dict[str, tuple[str, str]] = {
    "input": ("#e8e8e8", "#707070"), "lateral": ("#dbe9f9", "#3d74b8"),
    "top-down": ("#fde3c8", "#d9792b"), "bottom-up": ("#d7f0d5", "#3f9a3a"),
    "fusion": ("#eadcf5", "#8453b0"), "transform": ("#d5f0ee", "#2a8c85"),
    "upsample": ("#fbe0e6", "#c4506c"), "downsample": ("#f4efc8", "#a8901c"),
    "error": ("#fddede", "#c62828"),
    "output": ("#ffffff", "#333333"),
}
DEFAULT_COLOUR = ("#f0f0f0", "#888888")
NODE_W, NODE_H = 184, 36  # node box size
COL_GAP, SLOT_GAP, ROW_GAP = 52, 10, 16  # between columns, stacked nodes, rows
LANE, MARGIN, TOP = 7, 16, 84  # gutter lane pitch, outer margin, y of the first row
RowKey = tuple[Any, ...]
Item = Any  # a node id, or ("out", level) for an output marker


class Box(NamedTuple):
    """A placed rectangle."""

    x: float
    y: float
    w: float
    h: float


class Layout(NamedTuple):
    """Where every item goes: its (row, column), its slot in a shared cell, row tops."""

    place: dict[Item, tuple[RowKey, int]]
    slot: dict[Item, int]
    rows: list[RowKey]
    labels: dict[RowKey, str]
    n_slots: dict[RowKey, int]
    out_col: int


def _dims(shape: list[int] | None) -> str:
    """A shape as 1×256×50×84."""
    return "×".join(map(str, shape or []))


def _esc(text: object) -> str:
    """XML-escape text for element content and attribute values."""
    return html.escape(str(text), quote=True)


def _text_w(text: str, size: float = 11) -> float:
    """Approximate rendered width, with DejaVu-Sans-like (i.e. generous) glyph widths."""
    em = sum(0.33 if c in "ijlft.,:;|!()[] -'r" else 0.84 if c in "mwMW×→+…=%" else
             0.72 if c.isupper() else 0.63 for c in text)
    return em * size


def _fit(text: str, width: float, middle: bool = False) -> str:
    """Truncate text with an ellipsis (in the middle for dotted module names)."""
    cands = (text[:(k + 1) // 2] + "…" + text[len(text) - k // 2:] if middle else text[:k] + "…"
             for k in range(len(text) - 1, -1, -1))
    return next((c for c in itertools.chain([text], cands) if _text_w(c) <= width), "…")


def _row_key(shape: list[int] | None, level: str) -> RowKey:
    """Sort key of a row: equal H×W share a row, larger sizes first, shapeless rows last."""
    if shape and len(shape) >= 3:
        h, w = int(shape[-2]), int(shape[-1])
        return (0, -h * w, -h, -w)
    return (1, level or "?")


def _layout(nodes: list[dict[str, Any]], outputs: dict[str, Any], out_shapes: dict[str, Any]) -> Layout:
    """Rows by spatial size, columns by depth, stacking of items sharing a cell."""
    by_id, depth = {n["id"]: n for n in nodes}, dict[Item, int]()
    for n in nodes:  # column = longest path from an input; nodes come in topological order
        prev = [depth[i] for i in n.get("inputs", []) if i in depth]
        depth[n["id"]] = 0 if n.get("kind") == "input" else 1 + max(prev, default=0)
    out_col = max(depth.values(), default=-1) + 1
    place: dict[Item, tuple[RowKey, int]] = {}
    names: dict[RowKey, list[str]] = {}
    items = [(n["id"], n.get("shape"), n.get("level") or "", depth[n["id"]]) for n in nodes]
    items += [(("out", lvl), out_shapes.get(lvl) or by_id.get(nid, {}).get("shape"), lvl, out_col)
              for lvl, nid in outputs.items()]
    for item, shape, level, col in items:
        place[item] = (_row_key(shape, level), col)
        row_names = names.setdefault(place[item][0], [])
        if level and level not in row_names:
            row_names.append(level)
    rows = sorted(names)
    cells: dict[tuple[RowKey, int], list[Item]] = {}
    for item, cell in place.items():
        cells.setdefault(cell, []).append(item)
    slot = {item: k for members in cells.values() for k, item in enumerate(members)}
    n_slots = {r: max(len(v) for (rr, _), v in cells.items() if rr == r) for r in rows}
    labels = {r: " · ".join(filter(None, ["/".join(names[r]), f"{-r[2]}×{-r[3]}" if r[0] == 0 else ""]))
              or "?" for r in rows}
    return Layout(place, slot, rows, labels, n_slots, out_col)


def _route(edges: list[tuple[Item, Item, str]], lay: Layout) -> tuple[dict[int, int], dict[RowKey, int]]:
    """Gutter lane of each edge spanning more than one column (by edge index); lanes per row."""
    by_row: dict[RowKey, list[int]] = {}
    for k, (s, d, _) in enumerate(edges):
        if lay.place[d][1] - lay.place[s][1] > 1:
            by_row.setdefault(lay.place[d][0], []).append(k)
    lane_of: dict[int, int] = {}
    for ks in by_row.values():  # greedy interval colouring: no two runs share a lane
        ends: list[int] = []
        for k in sorted(ks, key=lambda k: (lay.place[edges[k][0]][1], lay.place[edges[k][1]][1])):
            start, end = lay.place[edges[k][0]][1], lay.place[edges[k][1]][1]
            lane_of[k] = next((i for i, e in enumerate(ends) if e <= start), len(ends))
            ends[lane_of[k]:lane_of[k] + 1] = [end]
    return lane_of, {r: 1 + max((lane_of[k] for k in by_row.get(r, [])), default=-1) for r in lay.rows}


def _edge_d(src: Box, dst: Box, port: float, gutter: float | None) -> str:
    """Path data from src's right side to dst's left side.

    Adjacent columns get one S-curve; longer edges climb (in the node-free gap after
    the source column) into the gutter above the target row and run there, so they
    never cross a node box. `port` (0..1) is where on dst's left side the arrow lands.
    """
    xs, ys, xd, yd = src.x + src.w, src.y + src.h / 2, dst.x, dst.y + dst.h * port
    if gutter is None:
        mx = (xs + xd) / 2
        return f"M{xs:.1f},{ys:.1f} C{mx:.1f},{ys:.1f} {mx:.1f},{yd:.1f} {xd:.1f},{yd:.1f}"
    g, h = COL_GAP, COL_GAP / 2
    return (f"M{xs:.1f},{ys:.1f} C{xs + h:.1f},{ys:.1f} {xs + h:.1f},{gutter:.1f} "
            f"{xs + g:.1f},{gutter:.1f} L{xd - g:.1f},{gutter:.1f} C{xd - h:.1f},{gutter:.1f} "
            f"{xd - h:.1f},{yd:.1f} {xd:.1f},{yd:.1f}")


GREY, DARK, BOLD = 'fill="#555"', 'fill="#111"', 'fill="#111" font-weight="bold"'
Line = tuple[str, str]  # (text, style attributes)


def _wrap(text: str, room: float) -> list[str]:
    """One line if it fits, else two, broken at the last space that lets the first fit."""
    words = text.split(" ")
    for k in range(len(words), 0, -1):
        head = " ".join(words[:k])
        if _text_w(head) <= room:
            return [head] + ([_fit(" ".join(words[k:]), room)] if k < len(words) else [])
    return [_fit(text, room)]


def _node_lines(node: dict[str, Any], room: float) -> list[Line]:
    """Text lines of a node box: module name (grey) over description, or a wrapped label."""
    label, shape = str(node.get("label", "")), node.get("shape") or []
    if node.get("kind") == "input":
        return [(label, BOLD), (_dims(shape[1:]), DARK)]
    name, sep, desc = label.partition(": ")
    if sep:
        return [(_fit(name, room, middle=True), GREY), (_fit(desc, room), DARK)]
    return [(t, DARK) for t in _wrap(label, room)]


def _box_svg(cls: str, box: Box, role: str, lines: list[Line], tip: str,
             attrs: str = "", rx: float = 6) -> str:
    """One node group: rounded rectangle, one or two text lines, a <title> tooltip."""
    fill, stroke = ROLE_COLOURS.get(role, DEFAULT_COLOUR)
    parts = [f'<g class="{cls}" data-role="{_esc(role)}"{attrs}><title>{_esc(tip)}</title>'
             + f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w}" height="{box.h}" '
             + f'rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/>']
    for (text, style), dy in zip(lines, [15, 29] if len(lines) > 1 else [box.h / 2 + 4]):
        parts.append(f'<text x="{box.x + box.w / 2:.1f}" y="{box.y + dy:.1f}" '
                     f'text-anchor="middle" {style}>{_esc(text)}</text>')
    return "".join(parts) + "</g>"


def _legend(roles: list[str], x: float, y: float) -> tuple[str, float]:
    """Swatches of the roles present; returns the SVG and its right edge."""
    parts = []
    for role in roles:
        fill, stroke = ROLE_COLOURS.get(role, DEFAULT_COLOUR)
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="3" '
                     f'fill="{fill}" stroke="{stroke}"/><text x="{x + 17:.1f}" y="{y:.1f}">'
                     f'{_esc(role)}</text>')
        x += 30 + _text_w(role)
    return '<g class="legend">' + "".join(parts) + "</g>", x


def graph_svg(report: Any) -> str:
    """An SVG drawing (a complete ``<svg>`` document) of a :class:`GraphReport`, or of its JSON
    document (``graph --json``)."""
    data: dict[str, Any] = report if isinstance(report, dict) else report.to_dict()
    nodes = [n for n in data.get("nodes", []) if "id" in n]
    by_id = {n["id"]: n for n in nodes}
    outputs, out_shapes = data.get("outputs") or {}, data.get("output_shapes") or {}
    lay = _layout(nodes, outputs, out_shapes)
    edges = [(i, n["id"], "edge") for n in nodes for i in n.get("inputs", []) if i in by_id]
    edges += [(nid, ("out", lvl), "out-edge") for lvl, nid in outputs.items() if nid in by_id]
    lane_of, n_lanes = _route(edges, lay)
    # Vertical layout: per row, a gutter for its long edges above its stacked slots.
    left = MARGIN + max((_text_w(t) * 1.1 for t in lay.labels.values()), default=0) + 16
    y, row_top, node_top = float(TOP), {}, {}
    for r in lay.rows:
        row_top[r], node_top[r] = y, y + 10 + n_lanes[r] * LANE
        y = node_top[r] + lay.n_slots[r] * (NODE_H + SLOT_GAP) - SLOT_GAP + ROW_GAP
    height = y + MARGIN - ROW_GAP / 2

    def box(item: Item) -> Box:
        r, c = lay.place[item]
        return Box(left + c * (NODE_W + COL_GAP),
                   node_top[r] + lay.slot[item] * (NODE_H + SLOT_GAP), NODE_W, NODE_H)

    title = f"{data.get('neck', '?')} neck of {data.get('model', '?')}: {len(nodes)} nodes"
    present = [r for r in ROLE_COLOURS if any(n.get("role") == r for n in nodes)]
    present += sorted({str(n.get("role", "?")) for n in nodes} - set(present))
    legend, legend_end = _legend(present, MARGIN, 50)
    width = max(left + (lay.out_col + 1) * (NODE_W + COL_GAP) - COL_GAP + MARGIN,
                legend_end + MARGIN, 2 * MARGIN + _text_w(title, 15) * 1.1)
    # A per-drawing marker id: several drawings inlined in one notebook page must not clash.
    arrow = f"fpnscope-arrow-{zlib.crc32(json.dumps(data, sort_keys=True, default=str).encode()):08x}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             + f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
             f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             + 'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
             f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
             f'<text x="{MARGIN}" y="26" font-size="15" font-weight="bold">{_esc(title)}</text>', legend]
    for k, r in enumerate(lay.rows):  # alternating row bands and their labels
        top = row_top[r] - ROW_GAP / 2
        bottom = node_top[r] + lay.n_slots[r] * (NODE_H + SLOT_GAP) - SLOT_GAP + ROW_GAP / 2
        parts.append(f'<rect class="band" x="0" y="{top:.1f}" width="{width:.0f}" height='
                     f'"{bottom - top:.1f}" fill="{"#f6f7f9" if k % 2 == 0 else "#ffffff"}"/>'
                     f'<text class="row-label" x="{MARGIN}" y="{(node_top[r] + bottom) / 2:.1f}" '
                     f'font-weight="bold" fill="#333">{_esc(lay.labels[r])}</text>')
    for text, col in (("inputs", 0), ("outputs", lay.out_col)):
        parts.append(f'<text x="{left + col * (NODE_W + COL_GAP) + NODE_W / 2:.1f}" y="70" '
                     f'text-anchor="middle" fill="#666" font-style="italic">{text}</text>')
    n_in, seen = Counter(d for _, d, _ in edges), Counter[Item]()
    for k, (s, d, cls) in enumerate(edges):
        seen[d] += 1  # spread a node's incoming arrows over its left side, in input order
        gutter = node_top[lay.place[d][0]] - 6 - lane_of[k] * LANE if k in lane_of else None
        to = d[1] if cls == "out-edge" else d  # an output marker is named by its level
        parts.append(f'<path class="{cls}" data-from="{_esc(s)}" data-to="{_esc(to)}" '
                     f'd="{_edge_d(box(s), box(d), seen[d] / (n_in[d] + 1), gutter)}" fill="none" stroke="#777" '
                     f'stroke-width="1.1" marker-end="url(#{arrow})"/>')
    for n in nodes:
        role, b, fusion = str(n.get("role", "?")), box(n["id"]), n.get("kind") == "fusion"
        tip = f"{n.get('label', '')}\n{role} · {n.get('level') or '-'} · {_dims(n.get('shape'))}"
        rx = NODE_H / 2 if fusion else 6  # fusions are pills, so less room for text
        parts.append(_box_svg("node", b, role, _node_lines(n, NODE_W - 2 * max(rx, 6)), tip,
                              f' data-id="{_esc(n["id"])}"', rx))
        if fusion:  # badge with the number of fused inputs
            parts.append(f'<g class="badge" fill="#8453b0" font-size="10" font-weight="bold">'
                         f'<circle cx="{b.x + b.w - 4:.1f}" cy="{b.y + 2:.1f}" r="8" fill="white" '
                         f'stroke="#8453b0"/>'
                         f'<text x="{b.x + b.w - 4:.1f}" y="{b.y + 6:.1f}" text-anchor="middle">'
                         f'{len(n.get("inputs", []))}</text></g>')
    for lvl, nid in outputs.items():
        dims = _dims(out_shapes.get(lvl) or by_id.get(nid, {}).get("shape"))
        tip = f"output {lvl} {dims}" + (f" ← node {nid}" if nid in by_id else " (not produced)")
        parts.append(_box_svg("output", box(("out", lvl)), "output", [(lvl, BOLD), (dims or "?", DARK)],
                              tip, f' data-level="{_esc(lvl)}"'))
    return "\n".join(parts + ["</svg>"])
