"""Every ledger row counted or explained (issue 12): dq.ledger_record_outcomes against the marts.

Checked on the sample build and on a copy of its warehouse whose raw ledger rows were broken
the ways the field breaks them (an unknown programme, a blank programme, a blank or impossible
开班日期, an unknown county, a county with no task, a blank programme at an expired institution),
rebuilt with the Dagster-free dbt CLI. The invariants: one outcome per raw row; counted rows
are the province mart's December enrolled_ytd; every not_counted row has the finding that
explains it; the valid count leaves out exactly the counted rows a disqualifying check flags.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from orchestration.resources import DBT_PROJECT_DIR

DBT = Path(sys.executable).parent / "dbt"
CJK = re.compile(r"[\u4e00-\u9fff]")
DISQUALIFYING_SEED = DBT_PROJECT_DIR / "seeds" / "dq_disqualifying_checks.csv"
NO_TASK_COUNTY = ("永登县", "620121")  # a Lanzhou county: no poverty work, no allocation


def disqualifying_checks() -> set[str]:
    with open(DISQUALIFYING_SEED, encoding="utf-8", newline="") as handle:
        return {row["check_name"] for row in csv.DictReader(handle)}


def rebuild_copy(sample: Path, folder: Path, change: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    """Copy the sample warehouse, change its raw tables, rebuild staging and everything after it.

    The copy keeps the file name: views name their catalog after it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / sample.name
    shutil.copyfile(sample, warehouse)
    con = duckdb.connect(str(warehouse))
    change(con)
    con.close()
    env = {
        **os.environ,
        "TRAINING_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "target"),
    }
    result = subprocess.run(
        [
            str(DBT),
            "build",
            "--select",
            "path:models/staging+",
            "--exclude",
            "resource_type:unit_test",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return warehouse


def plain_rows(con: duckdb.DuckDBPyConnection, count: int) -> list[tuple[str, str, int]]:
    """Ledger rows counted and valid whose trainee has no other ledger row: changing one moves
    nothing else (no repeat takes its place)."""
    return con.execute(
        """
        select source_file, sheet, row_number
        from staging.int_training_enrolments_deduplicated
        where is_counted and is_valid and county_code = '622922'
            and trainee_key in (
                select trainee_key from staging.int_training_enrolments_deduplicated
                group by 1 having count(*) = 1
            )
        order by source_file, sheet, row_number
        limit ?
        """,
        [count],
    ).fetchall()


# name → (raw column changes, expected outcome, expected reason_code)
BAD_ROWS = {
    "unknown_programme": ({"programme_name": "阳光工程培训"}, "not_counted", "unknown_programme"),
    "blank_programme": ({"programme_name": None}, "not_counted", "unknown_programme"),
    "blank_start": ({"start_date": None}, "not_counted", "missing_start_date"),
    "start_out_of_range": ({"start_date": "2099-03-01"}, "not_counted", "missing_start_date"),
    "unknown_county": ({"county": "火星县"}, "not_counted", "unknown_region"),
    "no_task_county": ({"county": NO_TASK_COUNTY[0]}, "counted", None),
    # blank 培训项目 at an institution whose qualification had run out (NULL detail before)
    "expired_blank_programme": (
        {"programme_name": None, "start_date": "2015-11-03"},
        "not_counted",
        "unknown_programme",
    ),
}


def expired_institution(con: duckdb.DuckDBPyConnection) -> str:
    (name,) = con.execute(
        "select institution_name from staging.int_institutions_deduplicated "
        "where qualification_valid_until < date '2015-11-03' order by institution_name limit 1"
    ).fetchone()
    return name


def break_ledger(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int]]:
    """Apply BAD_ROWS to distinct plain rows; return where each case is."""
    places = dict(zip(BAD_ROWS, plain_rows(con, len(BAD_ROWS)), strict=True))
    institution = expired_institution(con)
    for case, place in places.items():
        changes = dict(BAD_ROWS[case][0])
        if case == "expired_blank_programme":
            changes["institution"] = institution
        assignments = ", ".join(f"{column} = ?" for column in changes)
        con.execute(
            f"update raw.training_records set {assignments} "
            "where source_file = ? and sheet = ? and row_number = ?",
            [*changes.values(), *place],
        )
    return places


@pytest.fixture(scope="module")
def sample_db(sample_build):
    con = duckdb.connect(str(sample_build.settings.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def broken(sample_build, tmp_path_factory):
    places: dict[str, tuple[str, str, int]] = {}

    def change(con):
        places.update(break_ledger(con))

    warehouse = rebuild_copy(sample_build.settings.warehouse, tmp_path_factory.mktemp("broken"), change)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con, places
    con.close()


@pytest.fixture(params=["sample", "broken"])
def db(request) -> duckdb.DuckDBPyConnection:
    if request.param == "sample":
        return request.getfixturevalue("sample_db")
    return request.getfixturevalue("broken")[0]


def test_one_outcome_per_raw_ledger_row(db):
    (raw,) = db.execute("select count(*) from raw.training_records").fetchone()
    (outcomes, keys) = db.execute(
        "select count(*), count(distinct (source_file, sheet, row_number)) from dq.ledger_record_outcomes"
    ).fetchone()
    assert outcomes == keys == raw
    bad = db.execute(
        """
        select outcome, reason_code, reason_zh from dq.ledger_record_outcomes
        where outcome not in ('counted', 'duplicate', 'not_counted')
            or (outcome = 'counted') != (reason_zh is null)
            or (outcome = 'counted') != (reason_code is null)
            or (reason_zh is not null and not regexp_matches(reason_zh, '[\u4e00-\u9fff]'))
        """
    ).fetchall()
    assert bad == []


def test_counted_rows_are_the_province_year_end(db):
    counted = db.execute(
        "select year, programme_code, count(*) from dq.ledger_record_outcomes "
        "where outcome = 'counted' group by all"
    ).fetchall()
    province = db.execute(
        "select year, programme_code, enrolled_ytd from marts.mart_province_attainment_monthly "
        "where month(month) = 12 and enrolled_ytd > 0"
    ).fetchall()
    assert counted and set(counted) == set(province)


def test_every_not_counted_row_has_the_finding_that_explains_it(db):
    unexplained = db.execute(
        """
        select o.source_file, o.sheet, o.row_number, o.reason_code
        from dq.ledger_record_outcomes as o
        anti join dq.findings as f
            on f.source_file = o.source_file and f.sheet = o.sheet
            and f.row_number = o.row_number and f.check_name = o.reason_code
        where o.outcome != 'counted'
        """
    ).fetchall()
    assert unexplained == []


def test_valid_count_leaves_out_the_counted_rows_a_disqualifying_finding_flags(db):
    checks = sorted(disqualifying_checks())
    expected = db.execute(
        """
        select o.year, o.programme_code, count(*)
        from dq.ledger_record_outcomes as o
        anti join (select * from dq.findings where list_contains(?, check_name)) as f
            on f.source_file = o.source_file and f.sheet = o.sheet and f.row_number = o.row_number
        where o.outcome = 'counted'
        group by all
        """,
        [checks],
    ).fetchall()
    province = db.execute(
        "select year, programme_code, valid_enrolled_ytd from marts.mart_province_attainment_monthly "
        "where month(month) = 12 and valid_enrolled_ytd > 0"
    ).fetchall()
    assert expected and set(expected) == set(province)
    for mart in ("mart_target_attainment_monthly", "mart_city_attainment_monthly"):
        (wrong,) = db.execute(
            f"select count(*) from marts.{mart} where valid_enrolled_ytd > enrolled_ytd "
            "or valid_attainment_rate is distinct from "
            "round(valid_enrolled_ytd / nullif(annual_target, 0), 4)"
        ).fetchone()
        assert wrong == 0, mart


def test_only_disqualifying_checks_say_the_record_cannot_count(db):
    checks = disqualifying_checks()
    rows = db.execute("select check_name, detail from dq.findings").fetchall()
    says = {name for name, detail in rows if "不能计入任务" in (detail or "")}
    silent = {name for name, detail in rows if "不能计入任务" not in (detail or "")}
    assert says <= checks
    assert not (silent & checks), "a disqualifying check's finding does not say so"


def test_sample_valid_count_is_24_below_the_claimed(sample_db):
    # course_too_short, institution_not_on_roster, institution_qualification_expired and
    # trainee_not_registered: 6 planted each, all on counted rows
    (claimed, valid) = sample_db.execute(
        "select sum(enrolled_ytd), sum(valid_enrolled_ytd) from marts.mart_province_attainment_monthly "
        "where month = date '2015-12-01'"
    ).fetchone()
    assert (claimed, claimed - valid) == (435, 24)


def test_each_broken_row_gets_its_outcome_and_finding(broken):
    con, places = broken
    for case, (_, outcome, reason) in BAD_ROWS.items():
        got = con.execute(
            "select outcome, reason_code from dq.ledger_record_outcomes "
            "where source_file = ? and sheet = ? and row_number = ?",
            list(places[case]),
        ).fetchone()
        assert got == (outcome, reason), case
    # the blank programme at the expired institution: both findings, both with a detail
    details = dict(
        con.execute(
            "select check_name, detail from dq.findings "
            "where source_file = ? and sheet = ? and row_number = ?",
            list(places["expired_blank_programme"]),
        ).fetchall()
    )
    assert {"unknown_programme", "institution_qualification_expired"} <= set(details)
    assert all(detail and CJK.search(detail) for detail in details.values())


def test_county_without_task_stays_in_every_attainment_mart(broken):
    con, places = broken
    county_code = NO_TASK_COUNTY[1]
    rows = con.execute(
        "select programme_code, annual_target, attainment_rate, gap, enrolled_ytd, city_code "
        "from marts.mart_target_attainment_monthly where county_code = ? and month = date '2015-12-01'",
        [county_code],
    ).fetchall()
    assert len(rows) == 1
    programme, target, rate, gap, enrolled, city = rows[0]
    assert (target, rate, gap, enrolled) == (None, None, None, 1)
    (city_row,) = con.execute(
        "select counties from marts.mart_city_attainment_monthly "
        "where city_code = ? and programme_code = ? and month = date '2015-12-01'",
        [city, programme],
    ).fetchone()
    assert city_row == 1
    findings = con.execute(
        "select severity, programme_code, detail from dq.findings "
        "where check_name = 'no_task_allocated' and county_code = ?",
        [county_code],
    ).fetchall()
    assert len(findings) == 1 and findings[0][:2] == ("error", programme)
    assert "永登县" in findings[0][2]
