"""The package version, in a module of its own so that reports can say which version wrote them
without importing the package's public API."""

__version__ = "0.1.0"
