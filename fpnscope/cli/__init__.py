"""The command line: a thin shell over :mod:`fpnscope.api` (parse the options, call, render).

Nothing heavy is imported here: ``fpnscope --help`` and ``presets list`` never import torch.
"""

from fpnscope.cli.app import app, main

__all__ = ["app", "main"]
