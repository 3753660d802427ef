"""The dataflow drawing (SVG, standard library only) of real necks' graphs: every node, edge and
output drawn, nothing overlapping, everything inside the picture."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

import pytest

from fpnscope.analysis.graph import neck_graph
from fpnscope.config.loader import load_config
from fpnscope.config.overrides import Override
from fpnscope.render.svg import graph_svg

NS = "{http://www.w3.org/2000/svg}"
# a plain FPN, RetinaNet's extra convs, YOLO's concat fusions, ViTDet's one-map pyramid and a
# three-layer BiFPN (about 80 nodes)
EXAMPLES = ["resnet50_fpn", "retinanet_r50_fpn", "yolov8n_pan", "vitdet_b_simple_fpn", "r50_bifpn"]
Example = tuple[dict[str, Any], ET.Element]


def _render(data: dict[str, Any]) -> ET.Element:
    svg = graph_svg(data)
    assert isinstance(svg, str) and svg.lstrip().startswith("<svg")
    return ET.fromstring(svg)


def _attr(el: ET.Element, name: str) -> str:
    value = el.get(name)
    assert value is not None, name
    return value


def _rect(group: ET.Element) -> tuple[float, float, float, float]:
    r = group.find(f"{NS}rect")
    assert r is not None
    x, y, w, h = (float(_attr(r, k)) for k in ("x", "y", "width", "height"))
    return x, y, w, h


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == cls]


@pytest.fixture(params=EXAMPLES, scope="module")
def example(request: pytest.FixtureRequest) -> Example:
    size = [Override("input.height", 256), Override("input.width", 320)]
    data = neck_graph(load_config(request.param, size).config).to_dict()
    return data, _render(data)


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 5


def test_root_is_standalone_svg(example: Example) -> None:
    data, root = example
    assert root.tag == f"{NS}svg"
    vb = [float(v) for v in _attr(root, "viewBox").split()]
    assert vb[:2] == [0, 0] and vb[2] == float(_attr(root, "width")) and vb[3] == float(_attr(root, "height"))
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{NS}text"))
    assert f"{data['neck']} neck of {data['model']}: {len(data['nodes'])} nodes" in texts


def test_one_box_per_node_with_label(example: Example) -> None:
    data, root = example
    groups = {g.get("data-id"): g for g in _groups(root, "node")}
    assert len(groups) == len(_groups(root, "node")) == len(data["nodes"])
    for n in data["nodes"]:
        g = groups[str(n["id"])]
        _rect(g)
        title = g.find(f"{NS}title")
        shown = " ".join(t.text or "" for t in g.iter(f"{NS}text"))
        assert n["label"] in shown or (title is not None and n["label"] in (title.text or ""))


def test_one_edge_per_input(example: Example) -> None:
    data, root = example
    marker_ids = {m.get("id") for m in root.iter(f"{NS}marker")}
    got: Counter[tuple[str | None, str | None]] = Counter()
    for p in root.iter(f"{NS}path"):
        if p.get("class") == "edge":
            assert p.get("marker-end", "").removeprefix("url(#").removesuffix(")") in marker_ids
            got[(p.get("data-from"), p.get("data-to"))] += 1
    want = Counter((str(i), str(n["id"])) for n in data["nodes"] for i in n["inputs"])
    assert got == want


def test_outputs_shown(example: Example) -> None:
    data, root = example
    outs = {g.get("data-level"): g for g in _groups(root, "output")}
    assert set(outs) == set(data["outputs"])
    for lvl, g in outs.items():
        assert lvl in [t.text for t in g.iter(f"{NS}text")]
    out_edges = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{NS}path")
                 if p.get("class") == "out-edge"}
    assert out_edges == {(str(nid), lvl) for lvl, nid in data["outputs"].items() if nid is not None}


def test_boxes_inside_viewbox_and_disjoint(example: Example) -> None:
    _, root = example
    _, _, vw, vh = (float(v) for v in _attr(root, "viewBox").split())
    boxes = [_rect(g) for g in _groups(root, "node") + _groups(root, "output")]
    for x, y, w, h in boxes:
        assert 0 <= x and x + w <= vw and 0 <= y and y + h <= vh
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_rows_ordered_by_size(example: Example) -> None:
    """Finer levels (larger H×W) are drawn above coarser ones."""
    data, root = example
    ys = {g.get("data-id"): _rect(g)[1] for g in _groups(root, "node")}
    by_size = sorted(data["nodes"], key=lambda n: -n["shape"][-2] * n["shape"][-1])
    for a, b in itertools.pairwise(by_size):
        if a["shape"][-2:] != b["shape"][-2:]:
            assert ys[str(a["id"])] < ys[str(b["id"])]


def test_columns_follow_dataflow(example: Example) -> None:
    data, root = example
    xs = {g.get("data-id"): _rect(g)[0] for g in _groups(root, "node")}
    for n in data["nodes"]:
        for i in n["inputs"]:
            assert xs[str(i)] < xs[str(n["id"])]
    inputs = [xs[str(n["id"])] for n in data["nodes"] if n["kind"] == "input"]
    assert max(inputs) == min(xs.values())


def test_escaping_empty_levels_and_null_output() -> None:
    data = neck_graph(load_config("resnet50_fpn").config).to_dict()  # P2-P6 at 800x1333: 5 rows
    data["model"] = 'evil <model> & "quotes"'
    for n in data["nodes"]:
        n["level"] = ""
    data["nodes"][9]["label"] = "fuse<&>: add 2 inputs & more"
    data["outputs"]["P7"] = None
    data["output_shapes"]["P7"] = [1, 256, 7, 11]
    root = _render(data)
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{NS}text"))
    assert 'evil <model> & "quotes"' in texts and "P7" in texts
    labels = [t.text or "" for t in root.iter(f"{NS}text") if t.get("class") == "row-label"]
    assert len(labels) == 6 and "200×334" in labels[0]  # rows found from shapes alone (and P7's)


def test_empty_graph() -> None:
    root = _render({"nodes": [], "outputs": {}, "neck": "none", "model": "m"})
    assert root.tag == f"{NS}svg"
