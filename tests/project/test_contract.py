"""The names the warehouse promises its users, checked on the sample build.

Analysts' queries, the city reports and the snapshot's readers depend on schemas, tables and
columns by name. This module lists those names (README.md, docs/defects.md and the issues
that added them) and checks a built warehouse and its snapshot against them: names and shapes
only, never the numbers, which the other tests judge. A name missing from a build is a
regression; a table or column the list does not know is not an error (the list says what
must be there, not all that may be).

``check_warehouse`` and ``check_analytics`` return one line per broken promise, an empty
list when the build keeps them all; ``tests/publish/test_publish.py`` uses ``check_analytics`` too.
"""

from __future__ import annotations

import re

import duckdb
import pytest

# Every raw.<table> carries these: where each row came from (orchestration/sources.py).
RAW_LINEAGE = frozenset({"source_file", "sheet", "row_number", "file_sha256", "ingested_at"})

# The seven raw tables, one per source folder.
RAW_TABLES = frozenset(
    {
        "household_members",
        "village_statistics",
        "institutions",
        "training_records",
        "war_map_targets",
        "progress_reports",
        "task_allocations",
    }
)

# (schema, table) -> the columns promised in it; an empty set promises the table only.
PROMISED: dict[tuple[str, str], frozenset[str]] = {
    ("audit", "ingest_files"): frozenset(
        {
            "source_file",
            "source",
            "file_sha256",
            "status",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "rows_skipped",
            "error",
            "ingested_at",
        }
    ),
    ("audit", "current_files"): frozenset({"source_file", "status"}),
    ("audit", "quarantine"): frozenset(
        {"source_file", "sheet", "row_number", "column_name", "raw_value", "reason", "reason_code"}
    ),
    ("marts", "dim_region"): frozenset(),
    ("marts", "dim_programme"): frozenset({"programme_code", "programme_name_zh", "sort_order"}),
    ("marts", "dim_institution"): frozenset(),
    ("marts", "dim_household"): frozenset({"household_key"}),
    ("marts", "dim_trainee"): frozenset({"trainee_key"}),
    ("marts", "dim_month"): frozenset(),
    ("marts", "fct_training_enrolments"): frozenset({"trainee_key", "programme_code"}),
    ("marts", "fct_task_allocations"): frozenset({"county_code", "programme_code"}),
    ("marts", "fct_war_map_plans"): frozenset({"programme_code"}),
    ("marts", "fct_reported_progress"): frozenset({"programme_code"}),
    ("marts", "mart_target_attainment_monthly"): frozenset(
        {
            "month",
            "city_code",
            "county_code",
            "county_name",
            "programme_code",
            "annual_target",
            "enrolled_in_month",
            "enrolled_ytd",
            "attainment_rate",
            "expected_rate",
            "gap",
            "reported_ytd",
            "report_minus_ledger",
            # issue 12: what the rules let count toward the task, beside what is claimed
            "valid_enrolled_ytd",
            "valid_attainment_rate",
            "valid_gap",
        }
    ),
    ("marts", "mart_city_attainment_monthly"): frozenset(
        {"month", "city_code", "programme_code", "valid_enrolled_ytd", "valid_attainment_rate"}
    ),
    ("marts", "mart_province_attainment_monthly"): frozenset(
        {
            "month",
            "programme_code",
            "annual_target",
            "enrolled_ytd",
            "attainment_rate",
            "expected_rate",
            "valid_enrolled_ytd",
            "valid_attainment_rate",
        }
    ),
    ("marts", "mart_household_certificate_coverage"): frozenset(
        {
            "county_name",
            "coverage_level",
            "households_with_need",
            "households_with_need_and_certificate",
            "coverage_rate",
        }
    ),
    ("marts", "mart_training_demand_match"): frozenset(),
    ("marts", "mart_institution_performance"): frozenset(
        {
            "grain",
            "year",
            "institution_type",
            "enrolments",
            "completion_rate",
            "certification_rate",
            "transfer_rate",
            "satisfaction_rate",
        }
    ),
    ("marts", "mart_training_funding"): frozenset(),
    ("marts", "mart_report_gap_bridge"): frozenset(
        {
            "county_code",
            "programme_code",
            "month",
            "reported_ytd",
            "enrolled_ytd",
            "difference",
            "part_duplicates",
            "part_not_counted",
            "part_timing",
            "part_unexplained",
        }
    ),
    ("marts", "mart_target_persons_bridge"): frozenset(
        {"county_code", "township", "village", "war_map_persons", "ledger_persons"}
    ),
    ("marts", "mart_reporting_completeness"): frozenset(
        {"month", "county_code", "is_expected", "is_received", "received_date", "timeliness"}
    ),
    ("marts", "mart_attainment_forecast"): frozenset(
        {
            "month",
            "region_level",
            "region_code",
            "programme_code",
            "projected_year_end",
            "projected_attainment_rate",
            "needed_per_month",
            "will_miss",
            "method",
        }
    ),
    ("marts", "mart_township_attainment_monthly"): frozenset(
        {
            "month",
            "county_code",
            "township",
            "programme_code",
            "annual_target",
            "enrolled_ytd",
            "attainment_rate",
            "gap",
        }
    ),
    ("dq", "findings"): frozenset(
        {
            "check_name",
            "severity",
            "city_code",
            "county_code",
            "township",
            "source_file",
            "sheet",
            "row_number",
            "entity_key",
            "detail",
        }
    ),
    ("dq", "validation_runs"): frozenset(),
    # issue 14: who in each village still waits for training, and for what
    ("marts", "mart_village_work_list"): frozenset(
        {
            "year",
            "trainee_key",
            "household_key",
            "county_code",
            "township_name",
            "village_name",
            "programme_code",
            "desired_trade",
            "labour_category",
            "is_old_revolutionary_area",
            "is_ethnic_minority_village",
            "is_young_prime_age",
            "household_without_certificate",
            "nearest_to_certificate_key",
            "approved_institutions",
        }
    ),
    ("marts", "mart_village_work_summary"): frozenset(
        {
            "summary_level",
            "year",
            "county_code",
            "township_name",
            "village_name",
            "programme_code",
            "persons_waiting",
        }
    ),
    # issue 12: every loaded ledger row counted, or not counted with a reason
    ("dq", "ledger_record_outcomes"): frozenset(
        {
            "source_file",
            "sheet",
            "row_number",
            "county_code",
            "programme_code",
            "month",
            "year",
            "outcome",
            "reason_code",
            "reason_zh",
        }
    ),
    # issue 14: registered members who may be behind a ledger row with a broken ID (keys only)
    ("dq", "person_match_candidates"): frozenset(
        {
            "source_file",
            "sheet",
            "row_number",
            "city_code",
            "county_code",
            "trainee_key",
            "household_key",
            "match_probability",
            "agreed_fields",
            "candidate_rank",
            "is_proposed",
        }
    ),
}

# The check names dq.findings may hold (README "Data quality", docs/defects.md).
CHECK_NAMES = frozenset(
    {
        "target_persons_mismatch",
        "report_overclaims_ledger",
        "report_underclaims_ledger",
        "task_inflated",
        "unclassified_training_need",
        "course_too_short",
        "course_too_long",
        "duplicate_training",
        "invalid_id_number",
        "rounded_id_number",
        "id_region_mismatch",
        "trainee_not_registered",
        "institution_not_on_roster",
        "trade_not_approved",
        "institution_qualification_expired",
        "village_count_mismatch",
        # issue 12: records that cannot be placed or loaded, and resent submissions
        "no_task_allocated",
        "unknown_programme",
        "missing_start_date",
        "unknown_region",
        "file_not_loaded",
        "row_not_loaded",
        "superseded_submission",
    }
)
SEVERITIES = frozenset({"error", "warning"})

# The Dagster asset checks on the ingest and dq assets, by asset, and whether each blocks (README
# "Data quality", docs/defects.md "What blocks publication"): per Great Expectations suite a
# non-blocking check of its warnings and a blocking one of its critical expectations.
DQ_SUITES = frozenset(
    {
        "findings",
        "reconcile_reported_progress",
        "reconcile_target_persons",
        "reconcile_tasks",
        "reconcile_village_counts",
    }
)
DAGSTER_CHECKS: dict[str, dict[str, bool]] = {
    **{
        f"raw/{table}": {"ingest_clean": False, f"gx_{table}": False, f"gx_{table}_critical": True}
        for table in RAW_TABLES
    },
    **{f"dq/{suite}": {f"gx_{suite}": False, f"gx_{suite}_critical": True} for suite in DQ_SUITES},
}
OUTCOMES = frozenset({"counted", "duplicate", "not_counted"})

# The snapshot holds these schemas and none of the restricted ones.
SNAPSHOT_SCHEMAS = frozenset({"marts", "dq"})
RESTRICTED_SCHEMAS = frozenset({"raw", "staging", "audit", "reference"})
ID_SHAPED = re.compile(r"\d{17}[\dXx]")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {name for (name,) in rows}


def _distinct(con: duckdb.DuckDBPyConnection, sql: str) -> set:
    return {value for (value,) in con.execute(sql).fetchall()}


def check_warehouse(path: str) -> list[str]:
    """Broken promises of a working warehouse, one line each."""
    broken = []
    with duckdb.connect(path, read_only=True) as con:
        raw_tables = _distinct(
            con, "select table_name from information_schema.tables where table_schema = 'raw'"
        )
        for table in sorted(RAW_TABLES - raw_tables):
            broken.append(f"no table raw.{table}")
        for table in sorted(raw_tables):
            lacking = RAW_LINEAGE - _columns(con, "raw", table)
            if lacking:
                broken.append(f"raw.{table} lacks lineage columns {sorted(lacking)}")
        for (schema, table), promised in PROMISED.items():
            have = _columns(con, schema, table)
            if not have:
                broken.append(f"no table {schema}.{table}")
            elif promised - have:
                broken.append(f"{schema}.{table} lacks {sorted(promised - have)}")
        if {"check_name", "severity"} <= _columns(con, "dq", "findings"):
            unknown = _distinct(con, "select distinct check_name from dq.findings") - CHECK_NAMES
            if unknown:
                broken.append(f"dq.findings holds check names outside the catalogue: {sorted(unknown)}")
            severities = _distinct(con, "select distinct severity from dq.findings") - SEVERITIES
            if severities:
                broken.append(f"dq.findings holds severities outside error/warning: {sorted(severities)}")
        if "outcome" in _columns(con, "dq", "ledger_record_outcomes"):
            outcomes = _distinct(con, "select distinct outcome from dq.ledger_record_outcomes") - OUTCOMES
            if outcomes:
                broken.append(f"dq.ledger_record_outcomes holds unknown outcomes: {sorted(outcomes)}")
    return broken


def check_analytics(path: str) -> list[str]:
    """Broken promises of the analysts' snapshot: marts and dq only, no ID-shaped text."""
    broken = []
    with duckdb.connect(path, read_only=True) as con:
        schemas = _distinct(con, "select distinct table_schema from information_schema.tables")
        if SNAPSHOT_SCHEMAS - schemas:
            broken.append(f"the snapshot lacks schemas {sorted(SNAPSHOT_SCHEMAS - schemas)}")
        for schema in sorted(schemas & RESTRICTED_SCHEMAS):
            broken.append(f"the snapshot holds the restricted schema {schema}")
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in text_columns:
            values = _distinct(con, f'select distinct "{column}" from "{schema}"."{table}"')
            shaped = [v for v in values if v and ID_SHAPED.search(str(v))]
            if shaped:
                broken.append(f"{schema}.{table}.{column} holds {len(shaped)} ID-shaped values")
    return broken


def test_the_promised_dagster_checks_exist_and_block_as_promised():
    from orchestration.definitions import build_definitions

    graph = build_definitions(None).resolve_asset_graph()
    have = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    for asset, checks in DAGSTER_CHECKS.items():
        for name, blocking in checks.items():
            assert (asset, name) in have, f"no check {name} on {asset}"
            assert have[(asset, name)].blocking is blocking, f"{asset} {name}: blocking should be {blocking}"


def test_the_checker_names_what_is_broken(tmp_path):
    """The checker itself: a warehouse missing promised names and a leaky snapshot are caught."""
    warehouse = tmp_path / "training.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.training_records (source_file varchar, sheet varchar)")
        con.execute("create schema dq")
        con.execute("create table dq.findings as select 'made_up_check' as check_name, 'fatal' as severity")
    broken = check_warehouse(str(warehouse))
    assert "no table raw.household_members" in broken
    assert any(line.startswith("raw.training_records lacks lineage columns") for line in broken)
    assert "no table marts.mart_target_attainment_monthly" in broken
    assert any("lacks" in line and line.startswith("dq.findings") for line in broken)
    assert "dq.findings holds check names outside the catalogue: ['made_up_check']" in broken
    assert "dq.findings holds severities outside error/warning: ['fatal']" in broken

    snapshot = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(snapshot)) as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("create table marts.t as select 'id 620102198501011234' as note")
        con.execute("create table staging.s as select 1 as x")
    assert check_analytics(str(snapshot)) == [
        "the snapshot lacks schemas ['dq']",
        "the snapshot holds the restricted schema staging",
        "marts.t.note holds 1 ID-shaped values",
    ]


@pytest.mark.slow
def test_sample_build_keeps_every_promised_name(sample_build):
    settings = sample_build.settings
    assert check_warehouse(str(settings.warehouse)) == []


@pytest.mark.slow
def test_sample_snapshot_holds_marts_and_dq_and_no_personal_data(sample_build):
    settings = sample_build.settings
    assert settings.analytics_db.exists(), "the sample build published no snapshot"
    assert check_analytics(str(settings.analytics_db)) == []
    with duckdb.connect(str(settings.analytics_db), read_only=True) as con:
        schemas = _distinct(con, "select distinct table_schema from information_schema.tables")
    assert schemas == SNAPSHOT_SCHEMAS
