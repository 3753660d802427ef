"""The sentences of each check, written from its facts and fixes (``checks``: the checks on a built
model; ``crash``: a forward that raised). :mod:`fpnscope.analysis.diagnose.prose` puts them together."""
