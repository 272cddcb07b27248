"""What must hold after any `make run`, whatever the raw folder held: every ledger row counted or
explained, the snapshot and the city reports published, the audit's row accounting balanced.

Shared by tests/quality/test_every_record_counted.py (hand-made bad files) and
tests/reliability/test_fuzz_inputs.py (random damage). Each check returns a list of problems
(empty when it holds), so that one run reports everything it broke, not only the first thing.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from python_calamine import CalamineWorkbook

from tests.support.reliability_helpers import RunOutcome, assert_row_accounting, table_checksum

NOT_LOADED_SHEET = "未能导入的文件和数据"
PROVINCE_CODE = "620000"
FRESHNESS_TABLES = (("dq", "findings"), ("marts", "mart_province_attainment_monthly"))
FAILED_LINE = re.compile(r"^files failed to load: (\d+)\b", re.MULTILINE)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
            "and database_name = current_database()",
            [schema, table],
        ).fetchone()[0]
    )


def outcome_problems(warehouse: Path) -> list[str]:
    """The invariants of dq.ledger_record_outcomes against raw, the province mart and dq.findings."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not _has_table(con, "dq", "ledger_record_outcomes"):
            return ["dq.ledger_record_outcomes does not exist"]
        problems = []
        # exactly one outcome per raw ledger row, and none for a row that is not in raw
        unmatched = con.execute(
            """
            with raw_rows as (
                select source_file, sheet, row_number, count(*) as n from raw.training_records group by all
            ), outcomes as (
                select source_file, sheet, row_number, count(*) as n
                from dq.ledger_record_outcomes group by all
            )
            select coalesce(r.source_file, o.source_file), coalesce(r.sheet, o.sheet),
                   coalesce(r.row_number, o.row_number), coalesce(r.n, 0), coalesce(o.n, 0)
            from raw_rows as r full join outcomes as o using (source_file, sheet, row_number)
            where coalesce(r.n, 0) <> coalesce(o.n, 0)
            order by 1, 2, 3 limit 10
            """
        ).fetchall()
        problems += [
            f"{f}!{s} row {r}: {n_raw} raw rows, {n_out} outcomes" for f, s, r, n_raw, n_out in unmatched
        ]
        bad_outcomes = con.execute(
            "select distinct outcome from dq.ledger_record_outcomes "
            "where outcome is null or outcome not in ('counted', 'duplicate', 'not_counted')"
        ).fetchall()
        problems += [f"outcome {o!r} is not counted/duplicate/not_counted" for (o,) in bad_outcomes]
        problems += _counted_match_mart(con)
        # every row left out of the count says why: the finding of its reason, at its own row
        unexplained = con.execute(
            """
            select o.source_file, o.sheet, o.row_number, o.reason_code
            from dq.ledger_record_outcomes as o
            where o.outcome = 'not_counted' and not exists (
                select 1 from dq.findings as f
                where f.source_file = o.source_file and f.sheet = o.sheet
                  and f.row_number = o.row_number and f.check_name = o.reason_code
            )
            order by 1, 2, 3 limit 10
            """
        ).fetchall()
        problems += [
            f"{f}!{s} row {r}: not_counted ({why}) without that finding at the row"
            for f, s, r, why in unexplained
        ]
    return problems


def _counted_match_mart(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Counted rows per year and programme = the province mart's December enrolled_ytd (the
    trainee-times; valid_enrolled_ytd then leaves out what a disqualifying check flags)."""
    rows = con.execute(
        """
        with counted as (
            select left(cast(month as varchar), 4) as year, programme_code, count(*) as n
            from dq.ledger_record_outcomes where outcome = 'counted' group by all
        ), december as (
            select cast(year(month) as varchar) as year, programme_code, sum(enrolled_ytd) as n
            from marts.mart_province_attainment_monthly where month(month) = 12 group by all
        )
        select coalesce(c.year, d.year), coalesce(c.programme_code, d.programme_code),
               coalesce(c.n, 0), coalesce(d.n, 0)
        from counted as c full join december as d using (year, programme_code)
        where coalesce(c.n, 0) <> coalesce(d.n, 0)
        order by 1, 2
        """
    ).fetchall()
    return [f"{y} {p}: {c} rows counted, province mart December enrolled_ytd {d}" for y, p, c, d in rows]


def audit_problems(warehouse: Path) -> list[str]:
    """rows_read = rows_loaded + rows_quarantined + rows_skipped per loaded file (and the rest of
    the reliability suite's accounting)."""
    try:
        assert_row_accounting(warehouse)
    except AssertionError as error:
        return [f"audit: {line}" for line in str(error).splitlines()]
    return []


PROGRAM_ERROR = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")


def crash_problems(warehouse: Path) -> list[str]:
    """Files that failed because the reader itself broke (a Python exception in the message):
    a damaged cell must be quarantined or loaded, never cost the whole file."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        failed = con.execute(
            "select source_file, error from audit.current_files where status = 'failed'"
        ).fetchall()
    return [f"{f}: the reader broke: {e}" for f, e in failed if e and PROGRAM_ERROR.search(e)]


def expected_cities(warehouse: Path) -> set[str]:
    """Codes of the cities whose counties hold ledger rows (each must get a report)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select distinct regions.city_code
            from raw.training_records as records
            join reference.regions as regions
              on trim(records.county) in (regions.name_zh, regions.short_name_zh)
            where regions.level = 'county'
            """
        ).fetchall()
    return {code for (code,) in rows}


def latest_report_dir(reports: Path) -> Path | None:
    months = sorted(p for p in reports.glob("*") if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name))
    return months[-1] if months else None


def city_report(reports: Path, city_code: str) -> Path | None:
    folder = latest_report_dir(reports)
    found = sorted(folder.glob(f"{city_code}_*.xlsx")) if folder else []
    return found[0] if found else None


def publish_problems(root: Path, run: RunOutcome, warehouse: Path) -> list[str]:
    """The run exited 0, the snapshot is there and fresh, the province and every city with ledger
    rows has a report for the latest month."""
    problems = []
    if run.returncode != 0:
        problems.append(f"run exited {run.returncode}:\n{run.output[-3000:]}")
    snapshot = root / "warehouse" / "analytics.duckdb"
    if not snapshot.exists():
        problems.append("no analysts' snapshot")
    else:
        problems += _stale_tables(snapshot, warehouse)
    if not warehouse.exists():
        return [*problems, "no warehouse"]
    reports = root / "reports"
    for code in sorted({PROVINCE_CODE} | expected_cities(warehouse)):
        path = city_report(reports, code)
        if path is None or not path.with_suffix(".html").exists():
            problems.append(f"no report for {code} in {latest_report_dir(reports)}")
    return problems


def _stale_tables(snapshot: Path, warehouse: Path) -> list[str]:
    """The snapshot holds this build: its findings and province mart are the warehouse's."""
    problems = []
    for schema, table in FRESHNESS_TABLES:
        sums = []
        for path in (snapshot, warehouse):
            with duckdb.connect(str(path), read_only=True) as con:
                sums.append(table_checksum(con, schema, table) if _has_table(con, schema, table) else None)
        if sums[0] is None or sums[0] != sums[1]:
            problems.append(f"the snapshot's {schema}.{table} is not this build's: {sums[0]} ≠ {sums[1]}")
    return problems


def failed_files_line(output: str) -> int | None:
    """N of the final `files failed to load: N` line of `make run` (None when missing)."""
    found = FAILED_LINE.findall(output)
    return int(found[-1]) if found else None


def report_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet of a report workbook as rows of cell texts (numbers as integers where whole)."""

    def text(value) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value)

    with CalamineWorkbook.from_path(str(path)) as book:
        return {
            name: [[text(v) for v in row] for row in book.get_sheet_by_name(name).to_python()]
            for name in book.sheet_names
        }


def report_has_row(sheet_rows: list[list[str]], *needles: str) -> bool:
    """Whether one row of the sheet holds every needle (each in some cell, as a substring)."""
    return any(all(any(n in cell for cell in row) for n in needles) for row in sheet_rows)
