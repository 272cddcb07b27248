"""Idempotence: a second full run on the same raw folder changes nothing and duplicates nothing.

The first run is the session's `sample_build`; its warehouse is copied and the whole job runs
again on the copy (the same raw folder, a fresh Dagster instance, new snapshot and reports).
Every marts and dq table, the raw and audit tables and the analysts' snapshot are compared by
content checksum, and every table is checked for duplicate rows on its grain.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.resources import Settings
from orchestration.sources import SOURCES
from tests.conftest import SAMPLE_RAW_DIR, build_settings
from tests.support.reliability_helpers import (
    assert_row_accounting,
    checksums,
    differing,
    tables_of,
    workbook_texts,
)


@dataclass(frozen=True)
class Rerun:
    first: Settings
    second: Settings
    success: bool


@pytest.fixture(scope="module")
def rerun(sample_build, tmp_path_factory) -> Rerun:
    from orchestration.cli.runs import run_full_refresh

    settings = build_settings(tmp_path_factory.mktemp("rerun"), SAMPLE_RAW_DIR)
    settings.warehouse.parent.mkdir(parents=True)
    shutil.copyfile(sample_build.settings.warehouse, settings.warehouse)
    result = run_full_refresh(settings)
    return Rerun(sample_build.settings, settings, result.success)


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_second_run_succeeds_and_parses_no_file(rerun: Rerun):
    assert rerun.success
    runs = query(rerun.second.warehouse, "select run_id from audit.ingest_runs order by started_at")
    assert len(runs) == 2
    statuses = query(
        rerun.second.warehouse,
        f"select status, count(*) from audit.ingest_files where run_id = '{runs[-1][0]}' group by 1",
    )
    files = query(rerun.first.warehouse, "select count(*) from audit.file_state")[0][0]
    assert statuses == [("unchanged", files)]


def test_marts_and_dq_are_identical(rerun: Rerun):
    first, second = checksums(rerun.first.warehouse), checksums(rerun.second.warehouse)
    assert len(first) >= 20 and {k.split(".")[0] for k in first} == {"marts", "dq"}
    assert differing(first, second) == {}


def test_analysts_snapshot_is_identical(rerun: Rerun):
    first = checksums(rerun.first.analytics_db)
    assert first, "the first run published no snapshot"
    assert differing(first, checksums(rerun.second.analytics_db)) == {}


def test_raw_staging_and_audit_state_are_unchanged(rerun: Rerun):
    schemas = ("raw", "staging", "reference")
    assert (
        differing(checksums(rerun.first.warehouse, schemas), checksums(rerun.second.warehouse, schemas)) == {}
    )
    for table in ("audit.file_state", "audit.quarantine"):
        assert query(rerun.first.warehouse, f"select * from {table} order by all") == query(
            rerun.second.warehouse, f"select * from {table} order by all"
        ), table


# Grain of every table that has one: no two rows may share it.
GRAINS = {
    **{f"raw.{s.table}": ("source_file", "sheet", "row_number") for s in SOURCES.values()},
    "audit.file_state": ("source_file",),
    "audit.ingest_files": ("run_id", "source_file"),
    "marts.dim_programme": ("programme_code",),
    "marts.dim_month": ("month",),
    "marts.dim_region": ("region_key",),
    "marts.dim_institution": ("institution_key",),
    "marts.dim_household": ("household_key",),
    "marts.dim_trainee": ("trainee_key",),
    "marts.fct_training_enrolments": ("enrolment_key",),
    "marts.fct_task_allocations": ("year", "county_code", "programme_code"),
    "marts.fct_war_map_plans": ("plan_year", "region_key", "programme_code"),
    "marts.fct_reported_progress": ("report_month", "region_key", "programme_code"),
    "marts.mart_target_attainment_monthly": ("month", "county_code", "programme_code"),
    "marts.mart_city_attainment_monthly": ("month", "city_code", "programme_code"),
    "marts.mart_province_attainment_monthly": ("month", "programme_code"),
    "dq.findings": ("finding_key",),
}


def duplicates_on(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> int:
    keys = ", ".join(columns)
    return con.execute(
        f"select count(*) from (select {keys} from {table} group by all having count(*) > 1)"
    ).fetchone()[0]


def test_no_duplicate_rows_anywhere_after_the_second_run(rerun: Rerun):
    problems = []
    with duckdb.connect(str(rerun.second.warehouse), read_only=True) as con:
        for table, grain in GRAINS.items():
            if duplicates_on(con, table, grain):
                problems.append(f"{table}: duplicates on {grain}")
        # and no table of marts or dq holds the same row twice, whatever its grain
        for schema, name in tables_of(con, ("marts", "dq")):
            rows, distinct = con.execute(
                f'select count(*), count(distinct t) from "{schema}"."{name}" as t'
            ).fetchone()
            if rows != distinct:
                problems.append(f"{schema}.{name}: {rows - distinct} repeated rows")
        # the history of validations grew by one run's rows, as many as the first run wrote
        validation_runs = con.execute(
            "select count(*) from dq.validation_runs group by run_id order by min(validated_at)"
        ).fetchall()
    assert not problems, problems
    assert len(validation_runs) == 2 and validation_runs[0] == validation_runs[1], validation_runs


def test_row_accounting_holds_for_every_sample_file(rerun: Rerun):
    """The corpus's invariant on the real sample: every row read is loaded, quarantined with a
    row-level entry or skipped and counted by why."""
    assert_row_accounting(rerun.second.warehouse)


def test_reports_say_the_same(rerun: Rerun):
    first = sorted(p.relative_to(rerun.first.reports_dir) for p in rerun.first.reports_dir.rglob("*.xlsx"))
    second = sorted(p.relative_to(rerun.second.reports_dir) for p in rerun.second.reports_dir.rglob("*.xlsx"))
    assert first and first == second
    for relative in first:
        assert cells(rerun.first.reports_dir / relative) == cells(rerun.second.reports_dir / relative), (
            relative
        )


def cells(path: Path) -> list[str]:
    """Every cell of a report but its generation date (the runs may straddle midnight)."""
    return [text for text in workbook_texts(path) if "生成日期" not in text]
