"""A second opinion on MACs from fvcore, which traces a real forward pass on the CPU."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from fpnscope.analysis.measure.device import make_input
from fpnscope.config.schema import PresetConfig
from fpnscope.models.assemble import build_model
from fpnscope.reports.inspect import CrossCheck

if TYPE_CHECKING:
    from fpnscope.analysis.measure.run import Measurement

# fvcore's names for the ops whose "flops" are multiply-accumulates, as fpnscope's MACs are.
MATRIX_OPS = ("conv", "linear", "matmul", "addmm", "bmm", "einsum", "scaled_dot_product_attention")


def fvcore_crosscheck(cfg: PresetConfig, run: Measurement, base_dir: Path | None) -> CrossCheck:
    """Count the same model with ``fvcore.nn.FlopCountAnalysis`` on real CPU tensors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore's import uses deprecated torch.jit APIs
        from fvcore.nn import FlopCountAnalysis

    with torch.device("cpu"):
        model, _, _ = build_model(cfg, run.plan, base_dir)
    model.eval()
    inp = cfg.input
    x = make_input(inp.batch, inp.channels, inp.height, inp.width, torch.device("cpu"))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # fvcore warns about every op it skips; they are reported below
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_operator = {k: int(v) for k, v in analysis.by_operator().items()}
        skipped = {str(k): int(v) for k, v in analysis.unsupported_ops().items()}
    theirs = sum(v for k, v in by_operator.items() if k in MATRIX_OPS)
    return CrossCheck(
        backend="fvcore",
        device="cpu",
        macs=theirs,
        ours=run.counter.total("").macs,  # the whole model, as fvcore traced it: every stage, the head's too
        by_operator=by_operator,
        skipped=skipped,
    )
