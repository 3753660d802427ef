"""One module per command: parse the options, call :mod:`fpnscope.api`, render."""
