"""fpnscope: inspect, cost and compare feature-pyramid vision models."""

__version__ = "0.1.0"
