"""Ingest: every raw file under the raw folder into DuckDB ``raw.*``, with an audit trail.

Plain functions (no Dagster) do the work so they can be tested and benchmarked alone:
``reader.parse_file`` parses one file, ``pipeline.ingest_raw`` runs an incremental ingest.
``assets.py`` wraps them as the Dagster assets ``raw/<source>``.
"""
