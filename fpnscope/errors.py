"""The project's own errors: each carries a message a user can act on, and the facts behind it.

A message names the options it advises on as ``«name»`` (the Python parameter name). ``str(err)``
spells them for Python callers (``device``, ``allow_python=True``); the command line spells them as
its flags (``--device``, ``--allow-python``) with :meth:`FpnscopeError.render`. So the library never
talks about flags, and the CLI never rewrites a sentence it did not write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_OPTION = re.compile(r"«(\w+)»")
# options that are switches: a Python caller passes ``name=True``
SWITCHES = frozenset({"allow_python", "strict", "profile", "channels_last", "compile", "cuda_graphs"})


def python_spelling(option: str) -> str:
    """How a Python caller writes an option: ``device``, ``allow_python=True``.

    >>> python_spelling("device"), python_spelling("allow_python")
    ('device', 'allow_python=True')
    """
    return f"{option}=True" if option in SWITCHES else option


@dataclass(frozen=True)
class Problem:
    """One problem of a configuration: where (file and key path) and what is wrong.

    ``origin`` is the override that set the key, as the caller spelled it (``--set neck.x=1``).
    """

    file: str
    key: str
    message: str
    origin: str | None = None

    def line(self) -> str:
        where = f"{self.key}: " if self.key else ""
        origin = f" (from {self.origin})" if self.origin else ""
        return f"{self.file}: {where}{self.message}{origin}"


class FpnscopeError(Exception):
    """Base class; the CLI prints :meth:`render` on stderr and exits with code 2.

    >>> err = ConfigError("«device» 'tpu': use meta, cpu, cuda, cuda:N or mps", option="device")
    >>> str(err)
    "device 'tpu': use meta, cpu, cuda, cuda:N or mps"
    >>> err.render(lambda name: "--" + name)
    "--device 'tpu': use meta, cpu, cuda, cuda:N or mps"
    """

    def __init__(
        self,
        message: str = "",
        *,
        option: str | None = None,
        key: str | None = None,
        file: str | None = None,
        choices: Sequence[str] = (),
        problems: Sequence[Problem] = (),
    ) -> None:
        self.template = message or "\n".join(p.line() for p in problems)
        self.option = option  # the parameter (CLI option) the error is about
        self.key = key  # the configuration key path, e.g. "neck.out_channels"
        self.file = file  # the preset or file it is in
        self.choices = tuple(choices)  # the values that would have been accepted
        self.problems = tuple(problems)  # every problem of a configuration, for config errors
        super().__init__(self.template)

    def render(self, spell: Callable[[str], str] = python_spelling) -> str:
        """The message with every ``«option»`` spelled by ``spell``."""
        return _OPTION.sub(lambda m: spell(m.group(1)), self.template)

    def __str__(self) -> str:
        return self.render()


class ConfigError(FpnscopeError):
    """A preset, YAML file, override or option is invalid (bad input: exit code 2)."""


def missing_extra(package: str, extra: str, purpose: str) -> ConfigError:
    """The error for an optional dependency that is not installed, naming the extra that brings it.

    >>> print(missing_extra("pandas", "frames", "to_dataframe()"))
    to_dataframe() needs pandas, which is not installed: pip install 'fpnscope[frames]'
    """
    return ConfigError(f"{purpose} needs {package}, which is not installed: pip install 'fpnscope[{extra}]'")


class BuildError(FpnscopeError):
    """The configuration is valid but the model cannot be built or run as described."""


class HeadMismatch(BuildError):
    """The head cannot sit on the levels the neck produces; reported as a finding.

    ``levels`` are (name, channels) of the levels it was given; ``reason`` says what it needs.
    """

    def __init__(self, message: str, *, head: str, levels: Sequence[tuple[str, int]], reason: str) -> None:
        super().__init__(message)
        self.head, self.levels, self.reason = head, tuple(levels), reason


class LevelNotFound(BuildError):
    """``in_features`` names a level the stage before does not produce."""

    def __init__(self, message: str, *, key: str, wanted: str, available: Sequence[str]) -> None:
        super().__init__(message, key=key)
        self.wanted, self.available = wanted, tuple(available)
