"""The marts and the intermediate flags against the generator's ground truth on the sample.

The generator writes ``raw/manifest.json``: the trainee-times it produced (by month), each
county's allocation, and every defect it planted with the entity that identifies it
(docs/defects.md). The counting rule and the row-level flags the quality checks build on must
agree with it exactly — nothing missed, nothing extra.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import SAMPLE_RAW_DIR

MANIFEST = SAMPLE_RAW_DIR / "manifest.json"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def warehouse(sample_build) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(sample_build.settings.warehouse), read_only=True)
    yield con
    con.close()


def planted(manifest: dict, kind: str) -> set[tuple]:
    return {tuple(d["entity"].values()) for d in manifest["defects"] if d["kind"] == kind}


def rows(con, sql: str) -> set[tuple]:
    return {tuple(str(v) if v is not None else None for v in row) for row in con.execute(sql).fetchall()}


def test_trainee_times_by_month_are_the_generators(warehouse, manifest):
    year = manifest["year"]
    by_month = warehouse.execute(
        f"select sum(enrolled_in_month) from marts.mart_province_attainment_monthly where year = {year} "
        "group by month order by month"
    ).fetchall()
    assert [n for (n,) in by_month] == manifest["world"]["trainee_times_by_month"]
    assert warehouse.execute(
        f"select count(*) from marts.fct_training_enrolments where is_counted and start_year = {year}"
    ).fetchone() == (manifest["world"]["trainee_times"],)


def test_allocations_are_the_generators(warehouse, manifest):
    for county in manifest["counties"]:
        allocation = dict(
            warehouse.execute(
                "select programme_code, allocated_trainee_times from marts.fct_task_allocations "
                "where county_code = ? and year = ?",
                [county["county_code"], manifest["year"]],
            ).fetchall()
        )
        assert allocation == county["allocation"], county["county_code"]


LEDGER = "staging.int_training_enrolments_deduplicated"


@pytest.mark.parametrize(
    ("kind", "sql"),
    [
        (
            "course_too_short",
            f"select id_number, programme_code, start_date from {LEDGER} where duration_status = 'too_short'",
        ),
        (
            "course_too_long",
            f"select id_number, programme_code, start_date from {LEDGER} where duration_status = 'too_long'",
        ),
        (
            "duplicate_training",
            f"select id_number, programme_code, start_year from {LEDGER} where is_duplicate",
        ),
        (
            "trainee_not_registered",
            f"select id_number from {LEDGER} where is_valid_id and not is_registered_member",
        ),
        (
            "institution_not_on_roster",
            f"select institution_text, id_number from {LEDGER} where not is_on_roster",
        ),
        (
            "trade_not_approved",
            f"select r.institution_code, l.trade, l.id_number from {LEDGER} as l "
            "join staging.int_institutions_deduplicated as r using (institution_key) "
            "where not l.is_trade_approved",
        ),
        (
            "institution_qualification_expired",
            f"select r.institution_code, l.id_number, l.start_date from {LEDGER} "
            "as l join staging.int_institutions_deduplicated as r using (institution_key) "
            "where not l.is_qualification_valid_at_start",
        ),
        (
            "unclassified_training_need",
            "select id_number from staging.int_training_needs_classified where not is_classified",
        ),
        ("rounded_id_number", "select id_number from staging.int_id_numbers_validated where is_rounded_id"),
        (
            "invalid_id_number",
            # an old 15-digit ID identifies its person but is still an invalid_id_number to correct
            "select id_number from staging.int_id_numbers_validated "
            "where (not is_valid_id or id_status = 'old_15_digit') and not is_rounded_id "
            "and id_number is not null",
        ),
        (
            "id_region_mismatch",
            "select id_number from staging.int_household_members_resolved "
            "where id_matches_county = false union select id_number from "
            f"{LEDGER} where id_matches_county = false",
        ),
    ],
)
def test_row_flags_find_exactly_what_was_planted(warehouse, manifest, kind, sql):
    assert rows(warehouse, sql) == {tuple(str(v) for v in entity) for entity in planted(manifest, kind)}
