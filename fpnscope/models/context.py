"""What a builder may need to know besides its options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BuildContext:
    """The input the model will see (for models built for one size), the folder a user's module is
    looked up in, and the whole model when the stages are parts of one."""

    input_hw: tuple[int, int] | None = None
    base_dir: Path | None = None
    model: Any = None
