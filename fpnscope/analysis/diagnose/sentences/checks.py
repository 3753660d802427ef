"""The sentences of the checks on a built model: channels, heads, declarations, strides,
alignment and object sizes."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.analysis.diagnose.sentences.table import Facts, Writers
from fpnscope.reports.findings import Fix, PadInput, SetInput
from fpnscope.suggest import did_you_mean

WRITERS = Writers()


def _pad(fixes: Sequence[Fix], facts: Facts | None = None) -> str:
    """The input that lines every level up, or why no input is proposed."""
    for fix in fixes:
        if isinstance(fix, PadInput):
            return f"pad the input to {fix.height}x{fix.width} (a multiple of {fix.multiple}) and every level lines up"
        if isinstance(fix, SetInput):
            return f"use an input of {fix.height}x{fix.width}, with which every level lines up (checked)"
    why = (facts or {}).get("unfixable_by_input") or "no input lines every level up"
    return f"{why}: resize to the exact size of the map it meets (size=...) rather than by a factor"



# --- channels -------------------------------------------------------------------------------------
@WRITERS("in-channels-count", "channel-mismatch")
def _in_channels_count(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    actual = list(facts["actual"])
    return (f"neck.in_channels lists {facts['declared']} levels but the neck reads {len(actual)} "
            f"({', '.join(facts['levels'])})", f"write neck.in_channels: {actual}, or in_channels: auto")


@WRITERS("in-channels", "channel-mismatch")
def _in_channels(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    i, level, channels = facts["index"], facts["level"], facts["channels"]
    return (f"neck.in_channels[{i}] says {facts['declared']} but the backbone's {level} has {channels} channels",
            f"set neck.in_channels[{i}] to {channels}, or in_channels: auto (this report uses the measured channels)")


# --- heads ----------------------------------------------------------------------------------------
@WRITERS("head-channels", "head-mismatch")
def _head_channels(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    listed = ", ".join(f"{name} {channels}" for name, channels in facts["levels"])
    return (f"a {facts['head']} head shares its weights across levels and needs the same channels on every "
            f"level, but the neck gives {listed} (the head was left out of this report)",
            "use a neck with one out_channels (fpn, pafpn, bifpn, channel_mapper) or choose levels with "
            "head.in_features")


@WRITERS("head-levels", "head-mismatch")
def _head_levels(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    hint = did_you_mean(facts["wanted"], facts["available"], n=1)
    return (f"{facts['key']}: the neck has no level '{facts['wanted']}'{f' ({hint})' if hint else ''} (the head was "
            "left out of this report)", f"the neck gives {', '.join(facts['available'])}")


# --- declarations ---------------------------------------------------------------------------------
@WRITERS("neck-declared", "declared-vs-measured")
def _neck_declared(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    want, got = facts["declared"], facts["measured"]
    return (f"the {facts['kind']} neck declares {want['name']} with {want['channels']} channels at stride "
            f"{want['stride']} but produced {got['channels']} channels at stride {got['stride']}",
            "if this is a bundled neck kind, please report it; the report shows the measured levels")


@WRITERS("declared-count", "declared-vs-measured")
def _declared_count(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return (f"the backbone declares {facts['declared']} levels ({facts['source']}) but returns {facts['measured']}",
            "make the declaration list one entry per returned map; fpnscope uses the measured levels")


@WRITERS("declared-channels", "declared-vs-measured")
def _declared_channels(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    i, level, want, got = facts["index"], facts["level"], facts["declared"], facts["channels"]
    message = (f"backbone.channels[{i}] says {want} but {level} has {got} channels" if facts["in_yaml"] else
               f"level {i} ({level}) is declared with {want} channels ({facts['source']}) but has {got}")
    return message, f"declare {got} channels for {level}; fpnscope uses the measured channels"


@WRITERS("declared-stride", "stride-mismatch")
def _declared_stride(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    i, level, want, got = facts["index"], facts["level"], facts["declared"], facts["stride"]
    message = (f"backbone.strides[{i}] says {want} but {level} measures stride {got}" if facts["in_yaml"] else
               f"level {i} ({level}) is declared at stride {want} ({facts['source']}) but measures stride {got}")
    height, width = facts["size"]
    return (f"{message} ({height}×{width} from the input)",
            f"declare stride {got} for {level}; anchors and heads placed by the declared stride would be off")


# --- order and strides ----------------------------------------------------------------------------
@WRITERS("reversed", "stride-mismatch")
def _reversed(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return ("the backbone returns its levels coarsest first: strides " + ", ".join(map(str, facts["strides"])),
            "return the maps finest first (reverse the list); this report sorted them to go on")


@WRITERS("unsorted", "stride-mismatch")
def _unsorted(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return ("the backbone's levels are out of order: strides " + ", ".join(map(str, facts["strides"])),
            "return the maps finest first; this report sorted them to go on")


@WRITERS("shared-stride", "stride-mismatch")
def _shared(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return (f"{facts['count']} levels share stride {facts['stride']}; a pyramid expects one level per stride",
            "pick one of them with neck.in_features (they are named with a suffix: _1, _2)")


@WRITERS("odd-stride", "stride-mismatch")
def _odd(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    levels = facts.get("levels") or []
    which = f" ({', '.join(levels)})" if len(levels) > 1 else ""
    return (f"stride {facts['stride']}{which} is not a power of two; {'these levels have' if which else 'its level has'} "
            "no P-index and ×2 up- and downsampling between levels cannot line up",
            "use a backbone whose levels halve in size, or check its strides")


@WRITERS("not-doubling", "stride-mismatch")
def _not_doubling(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return (f"{facts['neck']} goes from {facts['fine']} (stride {facts['fine_stride']}) to {facts['coarse']} "
            f"(stride {facts['coarse_stride']}) in one stride-2 step",
            "choose neck.in_features whose strides double from one level to the next")


# --- alignment ------------------------------------------------------------------------------------
@WRITERS("fusion", "fusion-misalignment")
def _fusion(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    problems = []
    for p in facts["problems"]:
        if p["path"] == "top-down":
            problems.append(f"upsampling {p['coarse']} ×2 gives {p['got']} {p['dim']} but {p['fine']} has {p['want']}")
        else:
            problems.append(f"a stride-2 step down from {p['fine']} gives {p['got']} {p['dim']} but {p['coarse']} "
                            f"has {p['want']}")
    first = facts["problems"][0]
    how = ("upsamples with scale_factor=2 (detectron2's FPN)" if first["path"] == "top-down"
           else "adds a stride-2 conv's output without resizing")
    return ("; ".join(problems),
            f"this runs (fpnscope's necks resize to the exact size) but code that {how} fails with 'The size of "
            f"tensor a ({first['want']}) must match the size of tensor b ({first['got']})'; " + _pad(fixes, facts))


@WRITERS("rounding", "fusion-misalignment")
def _rounding(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return (f"levels are rounded differently: {', '.join(facts['down'])} round down, {', '.join(facts['up'])} round "
            "up, so their grids do not nest (anchors and box coordinates drift by a pixel between them)", _pad(fixes, facts))


@WRITERS("too-small", "level-too-small")
def _too_small(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    height, width = facts["size"]
    in_h, in_w = facts["input"]
    stride = facts["stride"]
    sides = [f"{size}-pixel input {label}" for size, label in ((in_h, "height"), (in_w, "width")) if stride > size]
    if len(sides) == 2:
        sides = [f"{in_h}×{in_w} input"]
    message = f"{facts['level']} is {height}×{width}" + (f": its stride {stride} is larger than the {sides[0]}"
                                                          if sides else "")
    if facts.get("unfixable_by_input"):
        return message, f"a level this small carries almost no spatial information; {facts['unfixable_by_input']}: use fewer levels"
    return message, (f"a level this small carries almost no spatial information; use an input of at least "
                     f"{2 * facts['stride']} pixels a side, or fewer levels")


# --- object sizes ---------------------------------------------------------------------------------
@WRITERS("receptive-field", "receptive-field")
def _receptive(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    return (f"{facts['level']}'s receptive field is {facts['receptive_field']} px, smaller than the smallest object "
            f"it is given ({facts['low']:.0f} px, by the {facts['assignment']})",
            "its predictions see only part of every object they answer for: widen what feeds this level (more or "
            "dilated convs, a deeper head) or give these sizes to a level that sees them")


@WRITERS("size-coverage", "size-coverage")
def _coverage(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    spans = ", ".join(f"{a:.0f}–{b:.0f}" for a, b in facts["gaps"])
    low, high = facts["wanted"]
    hint = {"anchors": "anchors reach them with head.anchor_scale or scales_per_octave, or a finer or coarser "
                       "level; meanwhile such a box gets only the anchor that overlaps it most, at a lower IoU",
            "dfl-range": "raise head.reg_max or add a coarser level to regress boxes this large"}.get(
        facts["rule"], "add a level for these sizes or narrow head.object_sizes")
    return f"objects of {spans} px (of the {low}–{high} px in head.object_sizes) land on no level by the " \
           f"{facts['assignment']}", hint
