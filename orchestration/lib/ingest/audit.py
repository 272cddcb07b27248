"""The audit schema: what each ingest run did with each file, and what it could not load.

- ``audit.ingest_files``: one row per file per run (history; never updated).
- ``audit.file_state``: the current state of each file ever seen (one row per file), updated
  in the same transaction as the file's rows in ``raw``; the incremental logic reads it.
- ``audit.current_files``: view of ``file_state`` without deleted files.
- ``audit.quarantine``: what the raw tables do not hold as written, for the files as they are
  now: cells set to NULL, rows left out, notes on kept cells, sheets and headers refused.
- ``audit.ingest_runs``: one row per run.
"""

from __future__ import annotations

import duckdb

from orchestration.sources import SOURCES, raw_table_ddl

AUDIT_DDL = [
    "create schema if not exists raw",
    "create schema if not exists audit",
    """
    create table if not exists audit.ingest_runs (
      run_id varchar not null,
      started_at timestamp with time zone not null,
      finished_at timestamp with time zone,
      sources varchar[],
      files_seen integer,
      files_parsed integer,
      seconds double
    )""",
    """
    create table if not exists audit.ingest_files (
      run_id varchar not null,
      source_file varchar not null,
      source_file_bytes varchar, -- a name that is not UTF-8: its exact bytes, escaped (\xbf\xb5…)
      source varchar not null,
      file_sha256 varchar,
      size_bytes bigint,
      status varchar not null,
      duplicate_of varchar,
      rows_read bigint not null default 0,
      rows_loaded bigint not null default 0,
      rows_quarantined bigint not null default 0,
      rows_skipped bigint not null default 0,
      skipped_by varchar, -- JSON: blank / total (合计) / header (repeated) / numbering rows
      sheets_loaded integer not null default 0,
      sheets_rejected integer not null default 0,
      cells_quarantined bigint not null default 0,
      error varchar,
      parse_seconds double,
      reader_version varchar,
      ingested_at timestamp with time zone not null
    )""",
    """
    create table if not exists audit.file_state (
      source_file varchar not null,
      source_file_bytes varchar,
      source varchar not null,
      file_sha256 varchar,
      status varchar not null,
      duplicate_of varchar,
      rows_read bigint not null default 0,
      rows_loaded bigint not null default 0,
      rows_quarantined bigint not null default 0,
      rows_skipped bigint not null default 0,
      sheets_rejected integer not null default 0,
      error varchar,
      reader_version varchar,
      run_id varchar not null,
      changed_at timestamp with time zone not null
    )""",
    """
    create table if not exists audit.quarantine (
      run_id varchar not null,
      source_file varchar not null,
      source varchar not null,
      file_sha256 varchar,
      sheet varchar,
      row_number integer,
      column_name varchar,
      raw_value varchar,
      reason varchar not null,
      reason_code varchar not null,
      ingested_at timestamp with time zone not null
    )""",
    """
    create or replace view audit.current_files as
    select * from audit.file_state where status <> 'deleted'
    """,
]

# Columns the audit tables gained after warehouses existed: added (NULL for old rows) on open.
AUDIT_ADDED_COLUMNS = (("ingest_files", "source_file_bytes"), ("file_state", "source_file_bytes"))

STATUSES = ("loaded", "unchanged", "duplicate", "failed", "deleted")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit tables if missing; add columns the contract gained since."""
    for statement in AUDIT_DDL:
        con.execute(statement)
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
    existing = set(
        con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where schema_name in ('raw', 'audit')"
        ).fetchall()
    )
    for source in SOURCES.values():
        for name in source.column_names:
            if ("raw", source.table, name) not in existing:  # additive contract change: NULL for old rows
                con.execute(f'alter table raw."{source.table}" add column "{name}" varchar')
    for table, name in AUDIT_ADDED_COLUMNS:
        if ("audit", table, name) not in existing:
            con.execute(f'alter table audit."{table}" add column "{name}" varchar')


STATE_COLUMNS = (
    "source_file",
    "source_file_bytes",
    "source",
    "file_sha256",
    "status",
    "duplicate_of",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_skipped",
    "sheets_rejected",
    "error",
    "reader_version",
)


def file_states(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict]:
    """source_file → its current state (STATE_COLUMNS), for the files of one source ever seen."""
    cursor = con.execute(
        f"select {', '.join(STATE_COLUMNS)} from audit.file_state where source = ?", [source]
    )
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
