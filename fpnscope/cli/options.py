"""The options several commands share, declared once (name, metavar, help, default)."""

from __future__ import annotations

from typing import Annotated

import typer

TargetArg = Annotated[
    str, typer.Argument(metavar="TARGET", help="A bundled preset name (see `presets list`) or a YAML file.")
]
InputOpt = Annotated[
    str | None,
    typer.Option("--input", "-i", metavar="HxW", help="Input size HxW, or one number for a square. [default: the preset's]"),
]
BatchOpt = Annotated[int | None, typer.Option("--batch", "-b", metavar="N", help="Batch size. [default: the preset's]")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", metavar="KEY=VALUE", help="Override a key: key.path=value (YAML value). Repeatable."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout (short for --format json).")]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", metavar="FORMAT",
                 help="table, json, csv or markdown. [default: from --output's extension, else table]"),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", metavar="FILE",
                 help="Write the report to this file (.json .csv .md .txt, or .svg for a picture)."),
]
AllowPythonOpt = Annotated[
    bool,
    typer.Option("--allow-python", help="Let a YAML file that is not a bundled preset import and run its python code."),
]
