"""Preset configuration: schema, loading, inheritance and overrides. No torch here.

``loader`` reads and merges plain YAML; ``schema`` (pydantic) is imported only to validate, so
listing presets stays fast.
"""
