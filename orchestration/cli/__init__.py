"""Command-line entry points: `make run` (run), the build state it plans from, DAGSTER_HOME (instance)."""
