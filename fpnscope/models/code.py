"""Stages made of the user's own code: a factory or a module for a backbone, neck or head, and the
parts of a whole model from another library.

The convention a factory is called with: its ``kwargs``, where ``in_channels: auto`` becomes the
measured channels of the levels the stage receives (a list; for a head, one number when every level
has the same), as it does when the factory has an ``in_channels`` parameter that ``kwargs`` leaves
out; and, when it has a parameter named ``in_specs``, the LevelSpecs of those levels.
A module given as an object from Python is never changed: the analysis runs a twin of it on meta
(same structure, weights of no memory), or a copy on a real device.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fpnscope.config.code import ModelSection, target_title
from fpnscope.errors import BuildError
from fpnscope.models.context import BuildContext
from fpnscope.models.imports import import_fresh
from fpnscope.spec import LevelSpec
from fpnscope.suggest import did_you_mean


def import_target(target: str, search: Sequence[Path], stage: str = "backbone") -> Any:
    """Import ``"package.module:attr.path"``, looking in ``search`` folders first."""
    module_name, _, attr_path = target.partition(":")
    added = [str(p) for p in search if str(p) not in sys.path]
    sys.path[:0] = added
    try:
        obj: Any = import_fresh(module_name, [str(p) for p in search])
    except SyntaxError as err:  # the user's file does not parse: nothing to build on any device
        where = f"{Path(err.filename).name}:{err.lineno}" if err.filename else module_name
        raise BuildError(f"{stage}.target: {where}: {err.msg}" + (f": {err.text.strip()}" if err.text else ""),
                         key=f"{stage}.target") from None
    except ImportError as err:
        if module_name.endswith(".py"):  # a file name where a module name goes
            raise BuildError(f"{stage}.target: name the module without .py: '{module_name[:-3]}:{attr_path}'",
                             key=f"{stage}.target") from None
        raise BuildError(
            f"{stage}.target: cannot import '{module_name}' ({err}); it is looked up next to the YAML file, in the "
            "current folder and on PYTHONPATH", key=f"{stage}.target"
        ) from None
    finally:
        for path in added:
            sys.path.remove(path)
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            hint = did_you_mean(part, [n for n in dir(obj) if not n.startswith("_")], n=1)
            raise BuildError(f"{stage}.target: '{module_name}' has no attribute '{attr_path}'{f'; {hint}' if hint else ''}",
                             key=f"{stage}.target")
        obj = getattr(obj, part)
    return obj


def meta_twin(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose parameters and buffers are meta tensors: no weights are copied."""
    memo: dict[int, Any] = {}
    for tensor in chain(module.parameters(), module.buffers()):
        empty = torch.empty_like(tensor, device="meta")
        memo[id(tensor)] = nn.Parameter(empty, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else empty
    return copy.deepcopy(module, memo)


def _parameters(factory: Any) -> Mapping[str, inspect.Parameter] | None:
    """The factory's parameters, None when it has no signature (some builtins and C types)."""
    try:
        return inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None


def _arguments(parameters: Mapping[str, inspect.Parameter] | None, kwargs: dict[str, Any],
               in_specs: Sequence[LevelSpec], stage: str) -> dict[str, Any]:
    """The factory's keyword arguments with the convention applied (see the module's docstring)."""
    out = dict(kwargs)
    parameters = parameters or {}
    if in_specs and "in_channels" in parameters and "in_channels" not in out:
        out["in_channels"] = "auto"  # a factory that takes in_channels is told them
    if out.get("in_channels") == "auto":
        channels = [s.channels for s in in_specs]
        one = stage == "head" and len(set(channels)) == 1
        out["in_channels"] = channels[0] if one else channels
    if "in_specs" in parameters and "in_specs" not in out:
        out["in_specs"] = list(in_specs)
    return out


def user_module(
    target: Any, kwargs: dict[str, Any], in_specs: Sequence[LevelSpec], stage: str, context: BuildContext
) -> nn.Module:
    """Build (or take) the user's module for ``stage`` on the current default device."""
    if isinstance(target, nn.Module):
        device = torch.get_default_device()
        return meta_twin(target) if device.type == "meta" else copy.deepcopy(target).to(device)
    factory = import_target(target, [p for p in (context.base_dir, Path.cwd()) if p], stage) if isinstance(target, str) else target
    if not callable(factory):
        raise BuildError(f"{stage}.target: '{target_title(target)}' is not callable", key=f"{stage}.target")
    parameters = _parameters(factory)
    arguments = _arguments(parameters, kwargs, in_specs, stage)
    _check_keywords(factory, parameters, arguments, stage)
    module = factory(**arguments)
    if not isinstance(module, nn.Module):
        raise BuildError(f"{stage}.target: {target_title(target)} returned {type(module).__name__}, not a torch.nn.Module",
                         key=f"{stage}.target")
    return module


def _check_keywords(factory: Any, parameters: Mapping[str, inspect.Parameter] | None, arguments: Mapping[str, Any],
                    stage: str) -> None:
    """A keyword the factory does not take is a typo in ``kwargs``: say which it takes."""
    if parameters is None:
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    takes = [n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "self"]
    for name in arguments:
        if name not in parameters:
            hint = did_you_mean(name, takes, n=1)
            raise BuildError(f"{stage}.kwargs.{name}: {target_title(factory)} takes no argument '{name}'"
                             f"{f'; {hint}' if hint else ''} (it takes {', '.join(takes) or 'none'})",
                             key=f"{stage}.kwargs.{name}")


def declared_specs(module: nn.Module, prefix: str) -> list[LevelSpec] | None:
    """Specs a module declares itself: ``level_specs`` or a timm-style ``feature_info``."""
    specs = getattr(module, "level_specs", None)
    if specs:
        return [s if isinstance(s, LevelSpec) else LevelSpec.of(prefix, s["channels"], s["stride"]) for s in specs]
    info = getattr(module, "feature_info", None)
    if info is None:
        return None
    if hasattr(info, "channels") and hasattr(info, "reduction"):
        return [LevelSpec.of(prefix, c, s) for c, s in zip(info.channels(), info.reduction())]
    if isinstance(info, (list, tuple)) and all(isinstance(d, dict) for d in info):
        return [LevelSpec.of(prefix, d["num_chs"], d["reduction"]) for d in info]
    return None


def yaml_specs(options: Any, prefix: str) -> list[LevelSpec] | None:
    """Specs declared in the YAML section (``channels`` and ``strides``), if any."""
    if getattr(options, "channels", None) is None:
        return None
    return [LevelSpec.of(prefix, c, s) for c, s in zip(options.channels, options.strides)]


def build_python_neck(
    in_specs: Sequence[LevelSpec], options: Any, context: BuildContext = BuildContext()
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """The user's neck; the levels it declares (YAML, else ``level_specs``), or None: measured."""
    module = user_module(options.target, options.kwargs, in_specs, "neck", context)
    return module, yaml_specs(options, "P") or declared_specs(module, "P")


def build_python_head(in_specs: Sequence[LevelSpec], options: Any, context: BuildContext = BuildContext()) -> nn.Module:
    """The user's head."""
    return user_module(options.target, options.kwargs, in_specs, "head", context)


def build_whole(section: ModelSection, context: BuildContext) -> nn.Module:
    """The whole model a ``model:`` section names, built on the current default device."""
    return user_module(section.target, section.kwargs, (), "model", context)


def part(model: nn.Module | None, path: str, stage: str) -> nn.Module:
    """The submodule at ``path`` (``backbone.body``) of the whole model."""
    if model is None:
        raise BuildError(f"{stage}: kind part needs the model: section to be built first", key=f"{stage}.path")
    node: Any = model
    for i, name in enumerate(path.split(".")):
        children = dict(node.named_children()) if isinstance(node, nn.Module) else {}
        if name not in children:
            where = ".".join(path.split(".")[:i]) or "the model"
            listed = ", ".join(children) or "no submodules"
            hint = did_you_mean(name, children, n=1)
            raise BuildError(f"{stage}.path: {where} has no submodule '{name}'{f'; {hint}' if hint else ''} (it has "
                             f"{listed})", key=f"{stage}.path")
        node = children[name]
    found: nn.Module = node
    return found


def build_part_backbone(options: Any, context: BuildContext = BuildContext()) -> tuple[nn.Module, list[LevelSpec] | None]:
    """The backbone part of the whole model."""
    module = part(context.model, options.path, "backbone")
    return module, yaml_specs(options, "C") or declared_specs(module, "C")


def build_part_neck(
    in_specs: Sequence[LevelSpec], options: Any, context: BuildContext = BuildContext()
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """The neck part of the whole model."""
    module = part(context.model, options.path, "neck")
    return module, yaml_specs(options, "P")


def build_part_head(in_specs: Sequence[LevelSpec], options: Any, context: BuildContext = BuildContext()) -> nn.Module:
    """The head part of the whole model."""
    return part(context.model, options.path, "head")


def outside_stages(whole: nn.Module, paths: Sequence[str]) -> list[tuple[str, int]]:
    """The parts of ``whole`` with parameters that no stage path covers, shallowest first, and
    their parameter counts: ``roi_heads`` of a Keypoint R-CNN measured as backbone, FPN and RPN head.

    >>> outside_stages(nn.Sequential(nn.Conv2d(3, 8, 1), nn.Linear(8, 2)), ["0"])
    [('1', 18)]
    """
    def walk(module: nn.Module, prefix: str) -> list[tuple[str, int]]:
        found = []
        for name, child in module.named_children():
            path = f"{prefix}{name}"
            if any(path == p or path.startswith(p + ".") for p in paths):
                continue  # a stage, or inside one
            if any(p.startswith(path + ".") for p in paths):
                found += walk(child, path + ".")  # holds a stage: what else is in it
            elif (count := sum(t.numel() for t in child.parameters())) > 0:
                found.append((path, count))
        return found

    return walk(whole, "")
