"""Rendering: the only place that formats for people (rich for the terminal and notebooks, plain
tables for CSV and Markdown, SVG for drawings)."""
