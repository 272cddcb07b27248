"""Ingest: the Dagster assets ``raw/<source>`` (assets.py); the work is orchestration.lib.ingest."""
