"""A tiny name -> builder map that suggests the closest name on a miss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from fpnscope.errors import BuildError
from fpnscope.suggest import did_you_mean

F = TypeVar("F", bound=Callable[..., object])


class Registry(Generic[F]):
    """Builders by name.

    >>> necks: Registry = Registry("neck")
    >>> @necks.register("fpn")
    ... def build(): return "built"
    >>> necks.get("fpn")()
    'built'
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator adding a builder under ``name``."""

        def add(fn: F) -> F:
            if name in self._items:
                raise ValueError(f"{self.what} '{name}' is registered twice")
            self._items[name] = fn
            return fn

        return add

    def get(self, name: str) -> F:
        """The builder for ``name``; an unknown name is a BuildError with suggestions."""
        try:
            return self._items[name]
        except KeyError:
            hint = did_you_mean(name, self._items)
            raise BuildError(
                f"{self.what}.kind: no {self.what} '{name}'"
                + (f"; {hint}" if hint else "")
                + f" (known: {', '.join(sorted(self._items))})"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)
