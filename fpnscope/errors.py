"""The project's own error types: each carries a message a user can act on."""

from __future__ import annotations


class FpnscopeError(Exception):
    """Base class. The CLI prints ``str(err)`` on stderr and exits with code 2."""


class ConfigError(FpnscopeError):
    """A preset, YAML file, ``--set`` override or command-line option is invalid."""


class BuildError(FpnscopeError):
    """The configuration is valid but the model cannot be built or run as described."""


class HeadMismatch(BuildError):
    """The head cannot sit on the levels the neck produces; reported as a diagnostic."""


class LevelNotFound(BuildError):
    """``in_features`` names a level the stage before does not produce."""
