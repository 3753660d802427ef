"""The ``presets list`` table."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from fpnscope.render.tables import table
from fpnscope.reports.presets import PresetList


def level_range(names: list[str] | None) -> str:
    """``['P2', 'P3', 'P4']`` -> ``'P2–P4'``; None -> ``'(known once built)'``.

    >>> level_range(["P2", "P3", "P4"]), level_range(None)
    ('P2–P4', '(known once built)')
    """
    if not names:
        return "(known once built)"
    return names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"


def view(report: PresetList) -> Group:
    """The bundled presets: name and description, the model, the pyramid levels."""
    out = table(
        f"{len(report.presets)} bundled presets",
        ("Preset", {"ratio": 3}),
        ("Model", {"ratio": 2}),
        ("Levels", {"no_wrap": True}),
    )
    for row in report.presets:
        label = Text(row.name, style="bold")
        if row.description:
            label.append("\n" + row.description, style="dim")
        model = Text(row.backbone)
        model.append("\n" + row.neck + (f" + {row.head} head" if row.head else ""), style="cyan")
        out.add_row(label, model, level_range(row.levels))
    return Group(out, Text("`fpnscope presets show NAME` prints one; `fpnscope inspect NAME` analyses it.", style="dim"))
