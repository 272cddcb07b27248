"""The engine: plain Python the Dagster definitions (orchestration/defs/) call. Not scanned by the
definitions loader, and never imports orchestration.defs."""
