"""Shared pieces of the preset schema: the strict base model and the value types.

Pure data, no torch. Every model forbids unknown keys and names the closest valid key, so a
misspelt ``out_chanels`` is caught with its fix rather than silently ignored; a key that exists
for other kinds but makes no sense for this one is refused with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fpnscope.suggest import did_you_mean


class Strict(BaseModel):
    """Frozen, and any key it does not know is an error that suggests the closest known key."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # keys other kinds have that make no sense here, with the reason (checked before unknown keys)
    not_applicable: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key in cls.not_applicable:
                    raise PydanticCustomError(
                        "not_applicable",
                        "'{key}' does not apply here: {reason}",
                        {"key": str(key), "reason": cls.not_applicable[key]},
                    )
                if key not in cls.model_fields:
                    hint = did_you_mean(str(key), known, n=1) or "valid keys: " + ", ".join(known)
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}' ({hint})", {"key": str(key), "hint": hint}
                    )
        return data


def _positive_int_list(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{what} must be a non-empty list of positive integers, like [256, 512]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ValueError(f"{what} must hold positive integers; {item!r} is not one")
    return tuple(value)


def _in_channels(value: Any) -> str | tuple[int, ...]:
    if value == "auto" or value is None:
        return "auto"
    if isinstance(value, str):
        raise ValueError(f"in_channels must be 'auto' or a list of positive integers, not {value!r}")
    return _positive_int_list(value, "in_channels")


InChannels = Annotated[
    Literal["auto"] | tuple[int, ...],
    BeforeValidator(_in_channels),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}, "minItems": 1},
            ],
            "description": "'auto' takes the channels the backbone produces; a list is checked against them.",
        }
    ),
]
PositiveInts = Annotated[tuple[PositiveInt, ...], Field(min_length=1)]
NonNegativeInts = Annotated[tuple[NonNegativeInt, ...], Field(min_length=1)]
LevelNames = Annotated[tuple[str, ...], Field(min_length=1)]
Norm = Literal["none", "bn", "gn"]
Act = Literal["none", "relu", "silu"]


def check_groups(norm: str, channels: int, groups: int, what: str) -> None:
    """GroupNorm needs ``channels`` divisible by ``groups``; say which keys to change."""
    if norm == "gn" and channels % groups:
        raise ValueError(
            f"norm: gn needs {what} ({channels}) divisible by gn_groups ({groups}); change one of them"
        )
