"""How levels travel between stages: a stage returns a tensor, a list, a tuple or a dict of maps;
the next stage takes them as a list or as a dict. A dict's keys are kept, so a level can be shown
as ``C2 (res2)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor


def as_maps(output: Any) -> tuple[list[Any], list[str] | None]:
    """The maps a stage returned, in order, and their keys when it returned a dict.

    >>> import torch
    >>> maps, keys = as_maps({"res2": torch.empty(0), "res3": torch.empty(0)})
    >>> len(maps), keys
    (2, ['res2', 'res3'])
    """
    if isinstance(output, Tensor):
        return [output], None
    if isinstance(output, Mapping):
        return list(output.values()), [str(k) for k in output]
    if isinstance(output, (list, tuple)):
        return list(output), None
    return [output], None


def in_form(maps: Sequence[Tensor], form: str, names: Sequence[str], keys: Sequence[str] | None) -> Any:
    """``maps`` as the next stage takes them: a list, or a dict keyed by the producer's keys (else
    the level names); ``auto`` is the producer's own form.

    >>> in_form([1, 2], "dict", ["C3", "C4"], None)
    {'C3': 1, 'C4': 2}
    """
    as_dict = form == "dict" or (form == "auto" and keys is not None)
    if not as_dict:
        return list(maps)
    return dict(zip(keys if keys is not None else names, maps))
