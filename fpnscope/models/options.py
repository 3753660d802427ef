"""The options a builder runs with: one declaration, in the config layer, for every default.

A builder called from Python with no options gets exactly what an empty YAML section gives,
because both are the config model's defaults; keyword overrides are validated the same way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from fpnscope.config.validate import validate_as

M = TypeVar("M", bound=BaseModel)


def resolve_options(model: type[M], given: M | None, overrides: dict[str, Any]) -> M:
    """``given`` (or the defaults) with ``overrides`` applied and validated.

    >>> from fpnscope.config.necks import FPNNeck
    >>> resolve_options(FPNNeck, None, {"out_channels": 128}).out_channels
    128
    """
    if given is not None and not overrides:
        return given
    data = given.model_dump(exclude_unset=True) if given is not None else {}
    return validate_as(model, {**data, **overrides}, model.__name__)


def conv_options(options: Any) -> dict[str, Any]:
    """The norm, activation and GroupNorm groups every conv of a stage shares."""
    return {"norm": options.norm, "act": getattr(options, "act", "none"), "gn_groups": options.gn_groups}
