"""The rule for running a user's code: a ``python`` kind imports and runs the module it names, so
it runs only from a bundled preset as shipped, or when the caller said it trusts the file."""

from __future__ import annotations

from fpnscope.config.loader import LoadedConfig
from fpnscope.errors import ConfigError


def python_targets(loaded: LoadedConfig) -> list[str]:
    """What runs the user's code that a file or a document named: a ``python`` kind's or the
    ``model:`` section's target. An object given from Python is the caller's own: it needs no leave."""
    cfg = loaded.config
    found = [f"{stage} kind python imports and runs '{part.target}'"
             for stage, part in (("backbone", cfg.backbone), ("neck", cfg.neck), ("head", cfg.head))
             if part is not None and part.kind == "python" and isinstance(part.target, str)]
    if cfg.model is not None and isinstance(cfg.model.target, str):
        found.append(f"model: imports and runs '{cfg.model.target}'")
    return found


def require_trust(loaded: LoadedConfig, allow_python: bool) -> None:
    """Refuse to run a ``python`` kind's code unless ``allow_python`` or the preset is bundled and
    unchanged.

    >>> from fpnscope.config.loader import load_config
    >>> require_trust(load_config("synthetic_fpn"), allow_python=False)  # no user code: nothing to refuse
    """
    targets = python_targets(loaded)
    if not targets or allow_python:
        return
    if loaded.source.bundled and not loaded.overrides:
        return
    raise ConfigError(
        f"{loaded.source.label}: {'; '.join(targets)}; fpnscope runs code named in a file, a document or "
        "an override only when told to: add «allow_python» if you trust this file",
        option="allow_python",
        file=loaded.source.label,
    )
