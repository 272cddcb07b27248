"""Comments on the dq tables written in Python (dbt documents the rest): the analysts' snapshot
carries them, English with the Chinese term."""

from __future__ import annotations

import duckdb


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_table(
    con: duckdb.DuckDBPyConnection, table: str, table_comment: str, column_comments: dict[str, str]
) -> None:
    """COMMENT ON the table and each of its columns (``table`` as schema.name)."""
    con.execute(f"comment on table {table} is {_sql_string(table_comment)}")
    for column, comment in column_comments.items():
        con.execute(f"comment on column {table}.{column} is {_sql_string(comment)}")
