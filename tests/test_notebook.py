"""The example notebook, executed in a real Jupyter kernel: it runs, and its outputs hold the
tables and the drawing (not only that it ran)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "explore.ipynb"


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def outputs(cell, mime: str) -> str:
    return "".join(str(out.get("data", {}).get(mime, "")) for out in cell.outputs)


def test_the_notebook_runs_without_errors(executed):
    assert not [out for cell in executed for out in cell.outputs if out.output_type == "error"]


def test_reports_show_their_tables_as_html(executed):
    report, figures, corrected, mine, compared, swept, frame, sizes, graph = executed[1:]
    html = outputs(report, "text/html")
    for table in ("Backbone levels", "Pyramid levels", "Cost", "MACs per level", "Diagnostics"):
        assert table in html, table
    assert "26.85 M" in html and "<span" in html  # figures, styled as the terminal styles them
    assert "Pyramid levels" in outputs(report, "text/plain")  # the plain-text fallback is the report too
    assert "26852416" in outputs(figures, "text/plain")
    assert "'width': 1344" in outputs(corrected, "text/plain")
    assert "P3" in outputs(mine, "text/plain")
    table = outputs(compared, "text/html")
    assert "baseline: fpn" in table and "pafpn" in table and "bifpn" in table and "MACs per level" in table


def test_a_sweep_shows_its_table_and_its_chart(executed):
    swept, frame = executed[6:8]
    html = outputs(swept, "text/html")
    assert "<svg" in html and "Pareto front" in html  # the matplotlib chart, above the table
    assert "resnet50_fpn: 6 points" in html and "keep params&lt;27M" in html and "★" in html
    assert "Params against MACs" in outputs(swept, "text/plain")
    table = outputs(frame, "text/html")
    assert "neck.out_channels" in table and "front" in table and "True" in table


def test_which_objects_land_on_which_level(executed):
    text = outputs(executed[8], "text/plain")
    assert "('P3', 23, 72, 523)" in text  # RetinaNet's anchors 32-51 px at IoU 0.5, and P3's receptive field
    assert "objects of 8–23 px" in text  # below the smallest anchor's reach: the size-coverage warning


def test_the_graph_is_drawn(executed):
    html = outputs(executed[-1], "text/html")
    assert "<svg" in html and "</svg>" in html
    for level in ("P3", "P4", "P5", "P6", "P7"):
        assert f">{level}<" in html, level
    assert "Nodes in the order they run" in html
