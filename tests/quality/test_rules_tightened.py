"""The tightened rules of issue 12 (rules a–f), on a full build of a modified copy of the sample.

The copy adds a revised progress report and a revised task allocation beside the originals (the
way a county sends a corrected file); everything else is the sample with its manifest, so the
planted war-map defects are known. One `python -m orchestration.run` in a subprocess builds it.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import run_env, run_pipeline

REPORT = "progress_reports/肃南 10月份 精准扶贫培训进度.csv"
REVISED_REPORT = "progress_reports/肃南 10月份 精准扶贫培训进度（修订）.csv"
ALLOCATION = "task_allocations/附件2 2015年全省精准扶贫劳动力培训任务分解表.xlsx"
REVISED_ALLOCATION = "task_allocations/附件2 2015年全省精准扶贫劳动力培训任务分解表（修订）.xlsx"
SUNAN, KANGLE = "620721", "622922"
# certificate levels that are vocational qualifications (职业资格证书, with a 鉴定等级)
QUALIFICATION_LEVELS = {"初级工", "中级工", "高级工", "技师", "高级技师"}


def write_revised_report(raw: Path) -> None:
    """The 10月 report of 肃南 again, filed a week later, with the county's 就业技能 已完成 47 → 45."""
    lines = (raw / REPORT).read_text(encoding="utf-8-sig").splitlines()
    county_row = next(
        i for i, line in enumerate(lines) if line.startswith("张掖市,肃南裕固族自治县,,2015-10,")
    )
    cells = lines[county_row].split(",")
    assert cells[5:7] == ["51", "47"], cells  # 任务数, 已完成 of 就业技能培训
    cells[6] = "45"
    lines[county_row] = ",".join(cells)
    lines[1] = lines[1].replace("2015年11月4日", "2015年11月11日")
    (raw / REVISED_REPORT).write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def write_revised_allocation(raw: Path) -> None:
    """A revised allocation for 康乐县 alone: 就业培训 47 → 50 (the other counties stay as they were)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分解"
    sheet.append(["2015年精准扶贫劳动力培训任务分解表（修订）"])
    sheet.append(["填报单位：甘肃省人力资源和社会保障厅    填报日期：2015年7月15日"])
    sheet.append(
        [
            "年份",
            "市州",
            "县(市、区)",
            "就业培训",
            "职业技能学历教育培训",
            "劳务品牌培训",
            "职业农民培训",
            "农村创业和技能带头人示范培训",
            "岗位技能提升培训",
            "创业培训",
        ]
    )
    sheet.append([2015, "临夏", "康乐县", 50, 45, 15, 6, 17, 4, 4])
    book.save(raw / REVISED_ALLOCATION)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, dict]:
    root = tmp_path_factory.mktemp("rules_tightened")
    raw = root / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    write_revised_report(raw)
    write_revised_allocation(raw)
    outcome = run_pipeline(run_env(root, raw))
    assert outcome.returncode == 0, outcome.output[-5000:]
    con = duckdb.connect(str(root / "warehouse" / "training.duckdb"), read_only=True)
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    yield con, manifest
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


# --- f. revised submissions ---------------------------------------------------------------------


def test_a_revised_progress_report_replaces_the_first_and_is_not_summed(built):
    con, _ = built
    got = rows(
        con,
        "select reported_task, reported_done, source_file from marts.fct_reported_progress "
        "where county_code = ? and report_level = 'county' and programme_code = 'EMPLOY' "
        "and report_month = date '2015-10-01'",
        [SUNAN],
    )
    assert got == [{"reported_task": 51, "reported_done": 45, "source_file": REVISED_REPORT}]
    # the fact's grain holds: one row per region, programme and month
    dupes = con.execute(
        "select count(*) from (select region_key, programme_code, report_month "
        "from marts.fct_reported_progress group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    # the reconciliation compares the winner with the ledger
    done = con.execute(
        "select reported_done from dq.reconcile_reported_progress where county_code = ? "
        "and programme_code = 'EMPLOY' and report_month = date '2015-10-01'",
        [SUNAN],
    ).fetchall()
    assert done == [(45,)]


def test_every_superseded_report_row_is_a_warning_pointing_at_it_and_naming_the_winner(built):
    con, _ = built
    found = rows(
        con,
        "select * from dq.findings where check_name = 'superseded_submission' and source_file = ? "
        "order by row_number",
        [REPORT],
    )
    # the county row and its three township rows (rows 6 to 9 of the csv)
    assert [f["row_number"] for f in found] == [6, 7, 8, 9]
    for f in found:
        assert f["severity"] == "warning"
        assert f["county_code"] == SUNAN and f["city_code"] == "620700"
        assert f["as_of_month"] == date(2015, 10, 1) and f["period"] == "2015-10"
        assert "肃南裕固族自治县" in f["detail"] and REVISED_REPORT in f["detail"]
    assert [f["township"] for f in found] == [None, "城关镇", "王庄镇", "清塬镇"]
    # the winners are never flagged, and nothing else was superseded in the reports
    assert con.execute(
        "select count(*) from dq.findings where check_name = 'superseded_submission' "
        "and source_file like 'progress_reports/%'"
    ).fetchone() == (4,)


def test_a_revised_allocation_wins_and_only_the_replaced_county_row_is_superseded(built):
    con, _ = built
    got = rows(
        con,
        "select county_code, allocated_trainee_times, versions, source_file from marts.fct_task_allocations "
        "where programme_code = 'EMPLOY' and year = 2015 order by county_code",
    )
    assert [(r["county_code"], r["allocated_trainee_times"], r["versions"]) for r in got] == [
        ("620721", 51, 1),
        ("622901", 47, 1),
        (KANGLE, 50, 2),
    ]
    assert got[2]["source_file"] == REVISED_ALLOCATION
    found = rows(
        con,
        "select * from dq.findings where check_name = 'superseded_submission' and source_file = ?",
        [ALLOCATION],
    )
    assert [(f["county_code"], f["period"], f["severity"]) for f in found] == [(KANGLE, "2015", "warning")]
    assert REVISED_ALLOCATION in found[0]["detail"] and found[0]["row_number"] is not None


# --- a. 户均一证 counts vocational qualification certificates only --------------------------------


def test_certificate_coverage_counts_only_vocational_qualifications(built):
    con, _ = built
    # recomputed from staging: a household holds a certificate when a member says so on the
    # household sheet, or earned a certificate with a 鉴定等级 in a ledger course
    sheet = {
        r[0]
        for r in con.execute(
            "select distinct household_key from staging.int_household_members_resolved "
            "where has_certificate and household_key is not null"
        ).fetchall()
    }
    earned = con.execute(
        "select distinct members.household_key, records.certificate_level "
        "from staging.int_training_enrolments_checked as records "
        "join staging.int_household_members_resolved as members using (trainee_key) "
        "where records.certified and records.is_valid_id and members.household_key is not null"
    ).fetchall()
    qualified = {key for key, level in earned if level in QUALIFICATION_LEVELS}
    completion_only = {key for key, _ in earned} - qualified - sheet
    assert completion_only, "the sample should hold households whose only certificate is a 结业证书 or 合格证"
    holders = {
        r[0]
        for r in con.execute(
            "select household_key from marts.dim_household where has_certificate_holder"
        ).fetchall()
    }
    assert holders == sheet | qualified
    assert not holders & completion_only
    # the mart's province total (sum of its cities) is the same count over households with a need
    need = {
        r[0]
        for r in con.execute(
            "select household_key from marts.dim_household where has_training_need"
        ).fetchall()
    }
    total = con.execute(
        "select sum(households_with_need_and_certificate) from marts.mart_household_certificate_coverage "
        "where coverage_level = 'city'"
    ).fetchone()[0]
    assert total == len(need & holders)


# --- d. institution completion counts only courses that have ended -------------------------------


def test_institution_rates_count_only_courses_ended_by_the_as_of_month(built):
    con, _ = built
    as_of = con.execute(
        "select last_day(max(report_month)) from marts.fct_reported_progress where report_level != 'unknown'"
    ).fetchone()[0]
    assert as_of == date(2015, 12, 31)
    expected = {
        r[0]: r[1:]
        for r in con.execute(
            "select i.institution_type, count(*), count(*) filter (where e.end_date <= ?), "
            "count(*) filter (where e.end_date <= ? and e.completed), "
            "count(*) filter (where e.end_date <= ? and e.certified) "
            "from marts.fct_training_enrolments as e join marts.dim_institution as i using (institution_key) "
            "where not e.is_duplicate group by 1",
            [as_of, as_of, as_of],
        ).fetchall()
    }
    got = {
        r["institution_type"]: r
        for r in rows(
            con, "select * from marts.mart_institution_performance where grain = 'institution_type'"
        )
    }
    assert set(got) == set(expected)
    running = 0
    for kind, (enrolments, ended, completed, certified) in expected.items():
        row = got[kind]
        assert (row["enrolments"], row["courses_ended"], row["completed"], row["certified"]) == (
            enrolments,
            ended,
            completed,
            certified,
        )
        assert row["completion_rate"] == (round(completed / ended, 4) if ended else None)
        running += enrolments - ended
    # the two-year diplomas (两后生, ending in 2017) are still running: in neither rate
    assert running > 0


# --- b. and c. war-map findings point at the war-map row, township sentences name the county ----


def test_war_map_findings_point_at_the_planted_war_map_row(built):
    con, manifest = built
    planted = [
        d
        for d in manifest["defects"]
        if d["kind"] in ("task_inflated", "target_persons_mismatch") and d["source"] == "war_map_targets"
    ]
    assert {d["kind"] for d in planted} == {"task_inflated", "target_persons_mismatch"}
    for d in planted:
        found = rows(
            con,
            "select source_file, sheet, row_number from dq.findings where check_name = ? and source_file = ? "
            "and coalesce(sheet, '') = ? and row_number = ?",
            [d["kind"], d["source_file"], d["sheet"] or "", d["row_number"]],
        )
        assert len(found) == 1, d


def test_township_sentences_name_the_county(built):
    con, _ = built
    found = rows(
        con,
        "select f.detail, r.name_zh from dq.findings as f "
        "join reference.regions as r on f.county_code = r.region_code "
        "where f.check_name in ('target_persons_mismatch', 'village_count_mismatch')",
    )
    assert found
    for f in found:
        assert f["detail"].startswith(f["name_zh"]), f
    # 城关镇 is a township of every sample county: each of its sentences says which
    chengguan = [f for f in found if "城关镇" in f["detail"][:20]]
    assert len({f["name_zh"] for f in chengguan}) >= 2


# --- e. a finding without a date gets its file's first month -------------------------------------


def test_every_finding_has_a_period_and_undated_ones_take_their_files_first_month(built):
    con, _ = built
    assert con.execute(
        "select count(*) from dq.findings where as_of_month is null or period is null"
    ).fetchone() == (0,)
    # a file without any date falls back on the province's first month (the earliest of all findings)
    first_month = con.execute("select min(as_of_month) from dq.findings").fetchone()[0]
    # household-sheet findings on rows without a collection date
    undated = rows(
        con,
        "select f.as_of_month, f.source_file, "
        "(select cast(date_trunc('month', min(m.collected_on)) as date) "
        " from staging.stg_household_sheets__members as m where m.source_file = f.source_file) as file_month "
        "from dq.findings as f join staging.stg_household_sheets__members as s "
        "on f.source_file = s.source_file and coalesce(f.sheet, '') = coalesce(s.sheet, '') "
        "and f.row_number = s.row_number where s.collected_on is null",
    )
    assert undated, "the sample should hold findings on household rows without a collection date"
    for f in undated:
        assert f["as_of_month"] == (f["file_month"] or first_month), f
