"""Heads: each takes the pyramid's LevelSpecs and returns a module whose forward takes the list of
levels and returns a dict of named outputs (a tensor, or a list with one tensor per level)."""
