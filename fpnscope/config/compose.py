"""A configuration document from Python objects: modules or factories for the stages, or a whole
model and the paths of its stages. Pure data: the objects are only placed in the document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fpnscope.config.code import target_title
from fpnscope.errors import ConfigError


def section(stage: str, given: Any) -> dict[str, Any]:
    """A stage section from what a caller gave: a section (a dict), a kind's name, or the user's
    own module or factory (``kind: python``).

    >>> section("neck", "fpn"), section("neck", {"kind": "bifpn", "width": 96})
    ({'kind': 'fpn'}, {'kind': 'bifpn', 'width': 96})
    """
    if isinstance(given, Mapping):
        return dict(given)
    if isinstance(given, str):
        return {"kind": given}
    if callable(given):
        return {"kind": "python", "target": given}
    raise ConfigError(f"«{stage}»: give a module, a factory, a kind's name or a section (a dict), not a "
                      f"{type(given).__name__}", option=stage)


def compose(
    model: Any = None,
    stages: Mapping[str, Any] | None = None,
    backbone: Any = None,
    neck: Any = None,
    head: Any = None,
) -> dict[str, Any]:
    """The document for a whole ``model`` with ``stages`` (``{"backbone": "backbone.body", ...}``,
    a value may also be ``{"path": ..., "inputs": "list"}``), and/or stages given one by one. A
    model given with no stages is measured as a backbone: its outputs are the levels."""
    doc: dict[str, Any] = {}
    if model is not None:
        doc["name"] = target_title(model)  # the report's title: what the model is, not "model"
        if stages:
            doc["model"] = {"target": model}
            for stage, where in stages.items():
                doc[stage] = {"kind": "part", "path": where} if isinstance(where, str) else {"kind": "part", **where}
        elif backbone is None:
            backbone = model
        else:
            raise ConfigError("a model and a backbone: name the model's stages with «stages»", option="stages")
    for stage, given in (("backbone", backbone), ("neck", neck), ("head", head)):
        if given is not None:
            doc[stage] = section(stage, given)
    if "backbone" not in doc:
        raise ConfigError("no backbone: give «backbone», or a model and its «stages»", option="backbone")
    doc.setdefault("neck", {"kind": "identity"})
    return doc
