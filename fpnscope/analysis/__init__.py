"""Analysis: one pass over the model (meta tensors by default) producing plain reports."""
