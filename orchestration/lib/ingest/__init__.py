"""Ingest: ``reader.parse_file`` parses one raw file, ``pipeline.ingest_raw`` runs an incremental
ingest into DuckDB ``raw.*`` with an audit trail."""
