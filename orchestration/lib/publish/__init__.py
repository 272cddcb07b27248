"""Publish: the analysts' read-only snapshot of marts and dq."""
