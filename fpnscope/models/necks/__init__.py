"""Necks: each takes the backbone's LevelSpecs and returns (module, output LevelSpecs)."""
