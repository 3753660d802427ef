"""Which objects each level serves, in the terminal: one table per assignment rule (the sides each
level receives, how, and its receptive field), then object sides against the levels they land on."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text

from fpnscope.render.tables import figure, table
from fpnscope.reports.sizes import Assignment, LevelRange, ObjectSizes


def field_text(px: int | None, whole: bool) -> str:
    """A receptive field as a cell: ``435 px``, ``global`` or ``—``."""
    return "global" if whole else (f"{px:,} px" if px is not None else "—")


def _span(lvl: LevelRange) -> str:
    high = "∞" if math.isinf(lvl.high) else f"{lvl.high:,.0f}"
    return f"{lvl.low:,.0f}–{high}"


def rule_table(rule: Assignment) -> Table:
    """The sides each level receives under ``rule``."""
    out = table(f"Objects per level: {rule.label}", ("Level", {"style": "bold", "no_wrap": True}),
                ("Stride", figure()), ("Object sides (px)", figure()), ("How", {}), ("Receptive field", figure()))
    for lvl in rule.levels:
        seen = field_text(lvl.receptive_field, lvl.receptive_global)
        small = lvl.receptive_field is not None and not lvl.receptive_global and lvl.receptive_field < lvl.low
        out.add_row(lvl.level, str(lvl.stride), _span(lvl), lvl.detail, Text(seen, style="yellow") if small else seen)
    seen = ("of each pooled feature; RoIAlign samples the whole box, so the RoI heads see all of it"
            if rule.rule == "roi-level" else "of the head's predictions at the level (theoretical, in input pixels)")
    out.caption = f"{rule.summary[0].upper()}{rule.summary[1:]}. Receptive field: {seen}."
    return out


def dense_rule(sizes: ObjectSizes) -> Assignment | None:
    """The rule whose levels predict from their receptive field alone (not the RoI heads, which
    pool the whole box)."""
    return next((rule for rule in sizes.assignments if rule.rule != "roi-level"), None)


def _sees(rule: Assignment, levels: list[str], side: int) -> Text:
    ranges = [lvl for lvl in rule.levels if lvl.level in levels]
    if not ranges:
        return Text("—", style="dim")
    if all(r.receptive_global for r in ranges):
        return Text("yes (global)")
    known = [r.receptive_field for r in ranges if r.receptive_field is not None and not r.receptive_global]
    if not known:
        return Text("—", style="dim")
    widest = max(known)
    return Text("yes") if widest >= side else Text(f"no: {widest:,} px", style="yellow")


def size_table(sizes: ObjectSizes) -> Table:
    """Object sides against the levels each rule gives them to, and whether the last rule's level
    sees the whole object."""
    dense = dense_rule(sizes)
    seen = [("Sees it whole", {"no_wrap": True})] if dense is not None else []
    out = table("Object size → level", ("Side (px)", figure()), *[(rule.label, {}) for rule in sizes.assignments], *seen)
    for row in sizes.rows:
        cells: list[str | Text] = [", ".join(row.levels[rule.label]) or Text("no level", style="yellow")
                                   for rule in sizes.assignments]
        if dense is not None:
            cells.append(_sees(dense, row.levels[dense.label], row.side))
        out.add_row(f"{row.side:,}", *cells)
    return out


def size_notes(sizes: ObjectSizes) -> Text:
    """What the size table rests on, below it."""
    dense = dense_rule(sizes)
    notes = [f"Sees it whole: the receptive field of the predictions at the level the {dense.label} give it is at "
             "least the object's side."] if dense is not None else []
    if sizes.wanted:
        notes.append(f"head.object_sizes asks for {sizes.wanted[0]}–{sizes.wanted[1]} px.")
    notes += [f"{n[0].upper()}{n[1:]}." for n in sizes.notes]
    return Text(" ".join(notes), style="dim")


def size_parts(sizes: ObjectSizes | None) -> list[Table | Text]:
    """The tables of a size analysis, or its notes alone when the head's anchors were not described."""
    if sizes is None:
        return []
    if not sizes.assignments:
        return [Text("Object sizes: " + "; ".join(sizes.notes), style="dim")]
    return [*[rule_table(rule) for rule in sizes.assignments], size_table(sizes), size_notes(sizes)]
