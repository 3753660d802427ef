"""``fpnscope presets list | show NAME`` and ``fpnscope schema``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from fpnscope.cli.edge import cli_errors
from fpnscope.cli.options import FormatOpt, JsonOpt, OutputOpt
from fpnscope.cli.output import emit, resolve_format
from fpnscope.errors import ConfigError

presets_app = typer.Typer(help="Bundled presets: list them, show one.", no_args_is_help=True, rich_markup_mode=None)


@presets_app.command("list")
def presets_list(as_json: JsonOpt = False, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """Every bundled preset: name, model, levels, description."""
    with cli_errors():
        fmt = resolve_format(fmt, as_json, output)
        from fpnscope import api

        emit(fmt, output, api.presets(), "fpnscope presets")


@presets_app.command("show")
def presets_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A bundled preset name.")],
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Show the validated result with _base_ merged and defaults filled in.")
    ] = False,
) -> None:
    """A bundled preset's YAML, as written or --resolved."""
    with cli_errors():
        from fpnscope import api

        if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
            raise ConfigError(f"'{name}' is a path; `presets show` takes a bundled preset name")
        sys.stdout.write(api.preset_text(name, resolved))


def schema() -> None:
    """JSON Schema of the preset format, for editors."""
    with cli_errors():
        from fpnscope import api

        sys.stdout.write(json.dumps(api.schema(), indent=2) + "\n")
