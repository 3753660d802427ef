"""One measured forward pass (meta tensors by default): costs, memory, levels and provenance."""
