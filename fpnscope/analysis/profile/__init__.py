"""``profile``: the timing harness, what it times, and the run over a sweep of inputs and batches."""
