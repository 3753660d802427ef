"""Backbone adapters. Each builder is called as ``builder(options, context)`` and returns
``(module, declared LevelSpecs or None)``; the module's forward takes an image batch and returns
its feature maps (a list, tuple or dict), finest first."""
