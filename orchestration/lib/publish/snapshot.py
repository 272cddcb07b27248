"""The analysts' snapshot: marts and dq copied from the warehouse into a file of their own.

DuckDB allows one writer per file, so analysts never open the working warehouse. After a
build, the published schemas are copied into a new file beside the snapshot, checked for
personal data, and renamed over the old snapshot in one step (``os.replace``): a reader opens
either the old file or the new one, never a half-written one, and never waits for a lock.
The new file starts as a copy of the previous snapshot: an unchanged table is kept, one that
changed a little (a new county ledger) gets only its changed rows, one that changed much is
copied whole; the new rows are checked as a whole copy is.

Personal data in the copy is handled by what it says about the warehouse. A value shaped like
an ID or mobile number inside free text (a phone number typed into 机构名称, a credit code in a
village name) is the field's data: it is masked in the copy — first 3 and last 4 digits kept —
and counted, and publication goes on, so one typed cell never stops the province's update. A
column named like personal data is a modelling error (a name or ID selected into a mart): the
warehouse is broken, nothing is published and the old snapshot stays.

Plain functions, no Dagster: the asset in ``assets.py`` and the benchmark both call
``publish_snapshot``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# Only these schemas leave the warehouse. raw, staging and audit hold names and ID numbers.
PUBLISHED_SCHEMAS = ("marts", "dq")

# Raw columns that hold personal data (orchestration/sources.py). None may reach the snapshot
# under its own name; the value patterns below catch the same data under another name.
PERSONAL_COLUMNS = frozenset(
    {
        "id_number",
        "member_name",
        "head_name",
        "trainee_name",
        "contact_person",
        "contact_phone",
        "responsible_person",
        "household_number",
        "certificate_number",
    }
)

# (what, DuckDB regular expression). The 18-character pattern is the contract's
# (tests/project/test_contract.py); the others are old 15-digit IDs and mobile numbers.
PERSONAL_VALUE_PATTERNS = (
    ("ID-number-shaped", r"\d{17}[\dXx]"),
    ("15-digit-ID-shaped", r"(^|\D)\d{15}($|\D)"),
    ("mobile-number-shaped", r"(^|\D)1[3-9]\d{9}($|\D)"),
)

# The temporary file of a build in progress: hidden, beside the snapshot, named after it.
_BUILDING_SUFFIX = ".building"

# Where the new rows of a table updated by difference wait, as "schema.table", to be checked and
# masked before they join the published table.
_INCOMING = "_incoming"

# A table updated by difference when at most this share of the warehouse's rows is new; more, and
# copying it whole costs less.
_MOST_CHANGED_TO_UPDATE = 0.5


# Digit runs of 11 or more (ID numbers of 15 or 18 characters, mobile numbers): the middle
# becomes ********, so no run of more than 7 digits is left for any pattern above to match.
_MASK_PATTERN = r"([0-9]{3})[0-9]{4,}([0-9]{3}[0-9Xx])"
_MASK_REPLACEMENT = r"\1********\2"


class PersonalDataError(RuntimeError):
    """The copy holds personal data: it is deleted and the old snapshot stays in place."""


@dataclass(frozen=True)
class SnapshotStats:
    path: Path
    tables: dict[str, int]  # "schema.table" -> rows
    bytes: int
    seconds: float
    masked: dict[str, int] = field(default_factory=dict)  # "schema.table.column" -> values masked
    # "schema.table" written from the warehouse (whole, or by difference: rows deleted, rows
    # added); the others were kept from the previous snapshot as they were
    copied: list[str] = field(default_factory=list)
    # rows written per copied table: all of them, or, for a table brought up to date by its
    # difference from the previous snapshot, only the new ones
    rows_written: dict[str, int] = field(default_factory=dict)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def building_path(target: Path) -> Path:
    """Where a build writes before the rename: same folder, so the rename is atomic."""
    return target.with_name(f".{target.name}.{os.getpid()}{_BUILDING_SUFFIX}")


def remove_stale_builds(target: Path) -> list[Path]:
    """Delete temporary files left by builds that were killed before their rename."""
    removed = []
    for leftover in target.parent.glob(f".{target.name}.*{_BUILDING_SUFFIX}*"):
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def _column_types(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list:
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [database, schema, table],
    ).fetchall()


# The rows of one side (`mine`) that the other (`theirs`) lacks: rows are compared by hash and
# counted with their repeats, so the n-th copy of a row is surplus when the other side has fewer.
_SURPLUS_ROWS = """
select mine.row_id
from (
    select row_id, row_hash, row_number() over (partition by row_hash order by row_id) as nth
    from {mine}
) as mine
left join (select row_hash, count(*) as copies from {theirs} group by row_hash) as theirs
    using (row_hash)
where mine.nth > coalesce(theirs.copies, 0)
"""


def _update_by_difference(
    con: duckdb.DuckDBPyConnection, here: str, schema: str, table: str, *, view: bool = False
) -> tuple[int, int] | None:
    """Bring the previous snapshot's copy of a warehouse table up to date by its difference: the
    rows the warehouse no longer has are deleted, the rows it has anew wait in ``_INCOMING`` (see
    ``_mask_and_append_incoming``). Returns the rows deleted and the rows waiting ((0, 0): the
    tables are equal), or None, with nothing done, when the columns differ or more than half the
    rows are new. A warehouse view (its rows have no rowid to fetch them by) is only found equal
    or not: (0, 0) or None.

    Rows are compared by their hash, as equal tables were before: after one new county ledger the
    tables that differed held 6.18 M rows, of which 10,579 were new (copying and scanning the
    person dimension alone took 10 s)."""
    if _column_types(con, here, schema, table) != _column_types(con, "wh", schema, table):
        return None
    try:
        return _apply_difference(con, f"{_quote(schema)}.{_quote(table)}", f"{schema}.{table}", view)
    finally:
        for temp in ("_mine_rows", "_theirs_rows", "_gone", "_new"):
            con.execute(f"drop table if exists {temp}")


def _apply_difference(
    con: duckdb.DuckDBPyConnection, name: str, dotted: str, view: bool
) -> tuple[int, int] | None:
    for side, relation, row_id in (
        ("mine", name, "rowid"),
        ("theirs", f"wh.{name}", "row_number() over ()" if view else "rowid"),
    ):
        con.execute(
            f"create or replace temp table _{side}_rows as "
            f"select {row_id} as row_id, hash(t) as row_hash from {relation} as t"
        )
    for surplus, mine, theirs in (
        ("_gone", "_mine_rows", "_theirs_rows"),
        ("_new", "_theirs_rows", "_mine_rows"),
    ):
        con.execute(
            f"create or replace temp table {surplus} as {_SURPLUS_ROWS.format(mine=mine, theirs=theirs)}"
        )
    (gone,) = con.execute("select count(*) from _gone").fetchone()
    (new,) = con.execute("select count(*) from _new").fetchone()
    (rows,) = con.execute("select count(*) from _theirs_rows").fetchone()
    if new > rows * _MOST_CHANGED_TO_UPDATE or (view and (gone or new)):
        return None
    con.execute(f"delete from {name} where rowid in (select row_id from _gone)")
    if new:
        con.execute(f"create schema if not exists {_INCOMING}")
        con.execute(
            f"create table {_INCOMING}.{_quote(dotted)} as "
            f"select * from wh.{name} where rowid in (select row_id from _new)"
        )
    return gone, new


def _copy_schemas(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]
) -> tuple[dict[str, int], set[str]]:
    """CREATE TABLE AS from the attached warehouse `wh`, with table and column comments.

    The copy may start as the previous snapshot: a table equal to the warehouse's is kept, one that
    changed little is updated by its difference (``_update_by_difference``: its new rows wait in
    ``_INCOMING``), the others are replaced, and tables the warehouse no longer has are dropped.
    Returns the rows written per table written now ("schema.table": all of a table copied whole,
    the new rows of one updated, 0 if it only lost rows) and the names of those copied whole."""
    objects = con.execute(
        """
        select schema_name, table_name, 'table', comment from duckdb_tables()
        where database_name = 'wh' and schema_name in (select unnest(?::varchar[]))
        union all
        select schema_name, view_name, 'view', comment from duckdb_views()
        where database_name = 'wh' and schema_name in (select unnest(?::varchar[])) and not internal
        order by 1, 2
        """,
        [list(schemas), list(schemas)],
    ).fetchall()
    here = con.execute("select current_database()").fetchone()[0]
    previous = {
        (schema, table)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [here]
        ).fetchall()
    }
    for schema, table in previous - {(schema, table) for schema, table, _, _ in objects}:
        con.execute(f"drop table {_quote(schema)}.{_quote(table)}")
    written: dict[str, int] = {}
    whole: set[str] = set()
    for schema in schemas:
        con.execute(f"create schema if not exists {_quote(schema)}")
    for schema, table, kind, comment in objects:
        name = f"{_quote(schema)}.{_quote(table)}"
        difference = None
        if (schema, table) in previous:
            difference = _update_by_difference(con, here, schema, table, view=kind == "view")
        if difference is None:
            # Views are materialised too: the snapshot must not depend on schemas it leaves out.
            con.execute(f"create or replace table {name} as select * from wh.{name}")
            (written[f"{schema}.{table}"],) = con.execute(f"select count(*) from {name}").fetchone()
            whole.add(f"{schema}.{table}")
        elif any(difference):  # rows gone, rows new
            written[f"{schema}.{table}"] = difference[1]
        earlier = difference is not None  # a table of the previous snapshot: it may carry old comments
        con.execute(f"comment on table {name} is {_sql_string(comment) if comment else 'null'}")
        column_comments = con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'wh' "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        for column, column_comment in column_comments:
            if column_comment or earlier:
                text = _sql_string(column_comment) if column_comment else "null"
                con.execute(f"comment on column {name}.{_quote(column)} is {text}")
    return written, whole


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table of the copy, "schema.table" in order."""
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        "order by 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in names:
        (counts[f"{schema}.{table}"],) = con.execute(
            f"select count(*) from {_quote(schema)}.{_quote(table)}"
        ).fetchone()
    return counts


def _mask_and_append_incoming(con: duckdb.DuckDBPyConnection, updated: set[str]) -> dict[str, int]:
    """Mask the new rows of the tables updated by difference (as ``mask_personal_values`` masks a
    table copied whole), append them to their tables and drop ``_INCOMING``; values masked per
    "schema.table.column"."""
    if not updated:
        return {}
    waiting = {f"{_INCOMING}.{name}" for name in updated}
    masked = {
        column.removeprefix(f"{_INCOMING}."): count
        for column, count in mask_personal_values(con, (_INCOMING,), waiting).items()
    }
    for name in sorted(updated):
        schema, table = name.split(".", 1)
        con.execute(f"insert into {_quote(schema)}.{_quote(table)} select * from {_INCOMING}.{_quote(name)}")
    con.execute(f"drop schema {_INCOMING} cascade")
    return masked


def find_personal_data(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], value_tables: set[str] | None = None
) -> list[str]:
    """Every column of the given schemas that is named like, or holds values shaped like, personal
    data; values looked for only in ``value_tables`` ("schema.table") when given."""
    problems = [f"{column}: a personal-data column" for column in personal_columns(con, schemas)]
    for (schema, table), column, hits in _value_hits(con, schemas, value_tables):
        for (what, _), count in zip(PERSONAL_VALUE_PATTERNS, hits, strict=True):
            if count:
                problems.append(f"{schema}.{table}.{column}: {count} {what} values")
    return problems


def personal_columns(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    """schema.table.column of every column named like personal data (PERSONAL_COLUMNS)."""
    return [
        f"{schema}.{table}.{column}"
        for schema, table, column, _ in _columns(con, schemas)
        if column.lower() in PERSONAL_COLUMNS
    ]


def mask_personal_values(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], tables: set[str] | None = None
) -> dict[str, int]:
    """Mask ID- and mobile-number-shaped values in the copy's text columns (of ``tables``,
    "schema.table", when given); values masked per column."""
    masked = {}
    for (schema, table), column, hits in _value_hits(con, schemas, tables):
        if not any(hits):
            continue
        relation, name = f"{_quote(schema)}.{_quote(table)}", _quote(column)
        matches = " or ".join(
            f"regexp_matches({name}, {_sql_string(pattern)})" for _, pattern in PERSONAL_VALUE_PATTERNS
        )
        (count,) = con.execute(f"select count(*) from {relation} where {matches}").fetchone()
        con.execute(
            f"update {relation} set {name} = regexp_replace({name}, {_sql_string(_MASK_PATTERN)}, "
            f"{_sql_string(_MASK_REPLACEMENT)}, 'g') where {matches}"
        )
        masked[f"{schema}.{table}.{column}"] = count
    return masked


def _columns(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    return con.execute(
        """
        select schema_name, table_name, column_name, data_type from duckdb_columns()
        where database_name = current_database() and schema_name in (select unnest(?::varchar[]))
        order by 1, 2, column_index
        """,
        [list(schemas)],
    ).fetchall()


def _value_hits(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], tables: set[str] | None = None):
    """((schema, table), column, hits per PERSONAL_VALUE_PATTERNS) of the text columns that may hold
    one (of ``tables``, "schema.table", when given)."""
    text_columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, data_type in _columns(con, schemas):
        if data_type == "VARCHAR" and (tables is None or f"{schema}.{table}" in tables):
            text_columns.setdefault((schema, table), []).append(column)
    # One pass per table with a cheap filter (any run of 11 digits, shared by every pattern:
    # 3x faster than the three patterns) over its text joined by spaces, which keep the digit
    # runs of two columns apart (one call per row, not per cell: a third faster); then the same
    # filter per column, and the precise patterns, only where it found something.
    for (schema, table), names in text_columns.items():
        relation = f"{_quote(schema)}.{_quote(table)}"
        joined = "concat_ws(' ', " + ", ".join(_quote(c) for c in names) + ")"
        (found,) = con.execute(
            f"select bool_or(regexp_matches({joined}, '[0-9]{{11}}')) from {relation}"
        ).fetchone()
        if not found:
            continue
        flags = ", ".join(f"bool_or(regexp_matches({_quote(c)}, '[0-9]{{11}}'))" for c in names)
        flagged = [
            c
            for c, hit in zip(names, con.execute(f"select {flags} from {relation}").fetchone(), strict=True)
            if hit
        ]
        for column in flagged:
            counts = ", ".join(
                f"count(*) filter (where regexp_matches({_quote(column)}, {_sql_string(pattern)}))"
                for _, pattern in PERSONAL_VALUE_PATTERNS
            )
            yield (schema, table), column, con.execute(f"select {counts} from {relation}").fetchone()


# What a snapshot was checked against: this module (its patterns, its column names, its steps).
# A snapshot published by other code is not reused: its kept tables would not have been checked
# by these rules.
_RULES = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def record_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.published.json")


def _write_record(target: Path, schemas: tuple[str, ...]) -> None:
    """Which snapshot this module published, under which rules: written after the rename."""
    stat = target.stat()
    record = {"rules": _RULES, "schemas": list(schemas), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    record_path(target).write_text(json.dumps(record), encoding="utf-8")


def _reusable(target: Path, schemas: tuple[str, ...]) -> bool:
    """Whether ``target`` is a snapshot this code published for these schemas, unchanged since."""
    try:
        record = json.loads(record_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return record == {
        "rules": _RULES,
        "schemas": list(schemas),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_snapshot(
    warehouse: Path, target: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> SnapshotStats:
    """Copy `schemas` of `warehouse` into a new file, check it, and rename it to `target`.

    Values shaped like ID or mobile numbers are masked in the copy (``SnapshotStats.masked``).
    Raises PersonalDataError (leaving the old snapshot untouched) if a column is named like
    personal data, or if anything personal is left after masking.
    """
    started = time.perf_counter()
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: nothing to publish")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target)
    building = building_path(target)
    record = record_path(target)
    try:
        if _reusable(target, schemas):
            # start from the previous snapshot: its tables that did not change are kept, not
            # copied and scanned again (it passed the same checks, see _reusable)
            shutil.copyfile(target, building)
        with duckdb.connect(str(building)) as con:
            con.execute(f"attach {_sql_string(str(warehouse))} as wh (read_only)")
            written, whole = _copy_schemas(con, schemas)
            con.execute("detach wh")
            # scanned: the tables copied whole, and the new rows of those updated by difference
            # (a table that only lost rows holds rows checked before)
            masked = mask_personal_values(con, schemas, whole)
            updated = {name for name, rows in written.items() if rows and name not in whole}
            masked.update(_mask_and_append_incoming(con, updated))
            # the masking scanned every text value copied now; only the tables it changed are
            # scanned again, whole (a second scan of all of them was 5 s at province scale)
            masked_tables = {name.rsplit(".", 1)[0] for name in masked}
            problems = find_personal_data(con, schemas, value_tables=masked_tables)
            if problems:
                raise PersonalDataError(
                    "not published, the copy holds personal data:\n  " + "\n  ".join(problems)
                )
            tables = _row_counts(con)
            con.execute("checkpoint")
        # Read-only for everyone: a GUI client that tries to open it read-write is refused
        # instead of writing into a file the next build replaces.
        building.chmod(0o444)
        _fsync(building)
        record.unlink(missing_ok=True)  # no record while the snapshot and it may disagree
        os.replace(building, target)
        _fsync(target.parent)
        _write_record(target, schemas)
    finally:
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
    return SnapshotStats(
        path=target,
        tables=tables,
        bytes=target.stat().st_size,
        seconds=time.perf_counter() - started,
        masked=masked,
        copied=sorted(written),
        rows_written=written,
    )


def snapshot_schemas(path: Path) -> set[str]:
    """Schemas that hold at least one table in a DuckDB file (for tests and checks)."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select distinct schema_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    return {r[0] for r in rows}
