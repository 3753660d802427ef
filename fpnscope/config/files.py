"""The files a configuration was made from, for ``inspect --watch``: its YAML and ``_base_`` chain,
and the modules of its ``python`` kinds; and forgetting those modules so an edit is imported again."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpnscope.config.loader import LoadedConfig


def watched_files(loaded: LoadedConfig) -> list[Path]:
    """The files a configuration was made from: its YAML and ``_base_`` chain, and the modules of its
    ``python`` kinds and ``model:`` section once they are imported (for ``inspect --watch``)."""
    cfg = loaded.config
    targets = [getattr(part, "target", None) for part in (cfg.backbone, cfg.neck, cfg.head, cfg.model)]
    files = list(loaded.files)
    for target in targets:
        if isinstance(target, str):
            module = sys.modules.get(target.partition(":")[0])
            if module is not None and getattr(module, "__file__", None):
                files.append(Path(str(module.__file__)).resolve())
    return list(dict.fromkeys(files))


def forget_modules(files: Sequence[Path]) -> None:
    """Drop the imported modules of ``files`` so that the next call imports them again, as edited."""
    wanted = {Path(f).resolve() for f in files}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() in wanted:
            del sys.modules[name]
