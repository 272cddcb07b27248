"""Builds the dbt project on a small hand-made raw world and checks what the marts say.

The raw world is written straight into ``raw.*`` tables (DDL from ``orchestration.sources``)
the way the ingest reader leaves them: text, ISO dates, lineage columns. Every row is chosen
to exercise one rule — the 2015 task allocation, a repeated course, a rounded ID, a name
the variants seed does not know — so each assertion below can fail for one reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from orchestration.lib.transform.duckdb_pii_plugin import hmac_sha256_hex
from orchestration.resources import DBT_PROJECT_DIR
from orchestration.sources import PROGRAMME_CODES, SOURCES, raw_table_ddl
from tests.project.test_contract import PROMISED

PII_KEY = "test-key-for-the-dbt-build"
DBT = Path(sys.executable).parent / "dbt"

# docs/domain.md: the 2015 task per programme; three counties share it.
TASK_2015 = {
    "EMPLOY": 123_000,
    "TWO_AFTER": 120_000,
    "BRAND": 40_000,
    "FARMER": 15_000,
    "LEADER": 45_000,
    "UPSKILL": 11_000,
    "STARTUP": 10_000,
}
SHARES = {  # county name as written → (code, share of each programme's task)
    "临洮": ("621124", 0.5),
    "渭源县": ("621123", 0.3),
    "会宁县": ("620422", 0.2),
}


def person_id(region: str, birth: str, sequence: int) -> str:
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "?")  # stdnum expects a placeholder check character


ID_A = person_id("621124", "19850101", 11)  # registered in 临洮, trained three times
ID_B = person_id("621124", "19990305", 22)  # registered, 两后生
ID_C = person_id("620422", "19700707", 31)  # registered, no need
ID_D = person_id("620422", "19900909", 45)  # trained, never registered
ID_E = person_id("621124", "19880808", 51)  # trained in 2016 only
ID_F = person_id("621123", "19750505", 62)  # registered leader whose need says nothing
ID_OLD = "620422800101123"  # the old 15-digit format: not valid, kept apart
ID_ROUNDED = "6.21123198501E+17"  # what Excel leaves of an ID typed as a number
ID_BAD_CHECK = ID_A[:17] + ("0" if ID_A[17] != "0" else "1")
NAMES = [
    "张三",
    "李四",
    "王五",
    "赵六",
    "孙七",
    "周八",
    "吴九",
    "郑十",
    "钱十一",
    "冯十二",
    "户主甲",
    "户主乙",
    "户主丙",
]
INSTITUTION_1 = "12621124438000001X"  # a public institution's code: shaped like an ID number
INSTITUTION_2 = "52621123MJ0000002B"


def _rows(source_name: str, rows: list[dict], source_file: str, ingested_at: str, sheet_title: str = ""):
    source = SOURCES[source_name]
    for number, row in enumerate(rows, start=4):
        unknown = set(row) - set(source.column_names)
        assert not unknown, f"{source_name}: no such columns {unknown}"
        values = [row.get(name) for name in source.column_names]
        yield values + [source_file, "Sheet1", number, "0" * 64, ingested_at, sheet_title]


def write_raw_world(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute("create schema if not exists raw")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))

    def insert(source_name, rows, source_file, ingested_at="2015-12-01 08:00:00+08", sheet_title=""):
        source = SOURCES[source_name]
        width = len(source.column_names) + 6
        con.executemany(
            f'insert into raw."{source.table}" values ({", ".join(["?"] * width)})',
            list(_rows(source_name, rows, source_file, ingested_at, sheet_title)),
        )

    # Task allocations: a first version for 临洮 that a later file replaces, the final
    # allocation of 2015 across three counties, a totals row, a county nobody knows, and 2016.
    insert(
        "task_allocations",
        [{"year": "2015", "city": "定西市", "county": "临洮县", "task_employ": "60000"}],
        "task_allocations/2015_draft.xlsx",
        ingested_at="2015-03-01 08:00:00+08",
    )
    final_rows = []
    for county, (_, share) in SHARES.items():
        row = {"year": "2015", "city": "定西" if county != "会宁县" else "白银市", "county": county}
        for code in PROGRAMME_CODES:
            row[f"task_{code.lower()}"] = str(round(TASK_2015[code] * share))
        final_rows.append(row)
    final_rows.append({"year": "2015", "county": "合计", "task_employ": "123000"})
    final_rows.append({"year": "2015", "county": "不存在县", "task_employ": "999"})
    insert("task_allocations", final_rows, "task_allocations/2015_final.xlsx", "2015-04-01 08:00:00+08")
    insert(
        "task_allocations",
        [{"year": "2016", "city": "定西市", "county": "临洮县", "task_employ": "1000"}],
        "task_allocations/2016.xlsx",
    )

    members = [
        # household 1 in 临洮: a transfer worker who wants to weld, a 两后生 who named the programme
        dict(
            household_number="6211240001",
            member_name="张三",
            head_name="户主甲",
            id_number=ID_A,
            labour_category="输转就业劳动力",
            employment_status="务农",
            has_training_need="是",
            training_need="想学电焊",
            has_certificate="否",
        ),
        dict(
            household_number="6211240001",
            member_name="李四",
            head_name="户主甲",
            id_number=ID_B,
            labour_category="两后生",
            employment_status="在校",
            has_training_need="是",
            training_need="就业技能",
            has_certificate="是",
        ),
        # household 2 in 渭源: a rounded ID and a bad check digit; a need no rule can place
        dict(
            household_number="6211230002",
            member_name="王五",
            head_name="户主乙",
            id_number=ID_ROUNDED,
            labour_category="从事农业生产和服务的劳动力",
            has_training_need="是",
            training_need="养殖技术",
            has_certificate="否",
            county="渭源县",
            township="会川镇",
            village="本庙村",
        ),
        dict(
            household_number="6211230002",
            member_name="赵六",
            head_name="户主乙",
            id_number=ID_BAD_CHECK,
            labour_category="新增劳动力",
            has_training_need="是",
            training_need="还没想好",
            has_certificate="无",
            county="渭源县",
            township="会川镇",
            village="本庙村",
        ),
        dict(
            household_number="6211230002",
            member_name="冯十二",
            head_name="户主乙",
            id_number=ID_F,
            labour_category="致富带头人",
            has_training_need="是",
            training_need="不清楚",
            has_certificate="否",
            county="渭源县",
            township="会川镇",
            village="本庙村",
        ),
        # household 3 in 会宁: an old 15-digit ID working away who wants to cook; one without a need
        dict(
            household_number="6204220003",
            member_name="孙七",
            head_name="户主丙",
            id_number=ID_OLD,
            labour_category="新增劳动力",
            employment_status="外出务工",
            has_training_need="是",
            training_need="厨师",
            has_certificate="否",
            city="白银市",
            county="会宁县",
            township="郭城驿镇",
            village="红堡子村",
        ),
        dict(
            household_number="6204220003",
            member_name="周八",
            head_name="户主丙",
            id_number=ID_C,
            labour_category="非劳动力",
            has_training_need="否",
            has_certificate="否",
            city="白银市",
            county="会宁县",
            township="郭城驿镇",
            village="红堡子村",
        ),
    ]
    for row in members:
        row.setdefault("city", "定西市")
        row.setdefault("county", "临洮县")
        row.setdefault("township", "城关镇")
        row.setdefault("village", "张家村")
        row["collected_on"] = "2015-02-10"
    insert("household_members", members, "household_sheets/lintao.xlsx")

    def course(**values):
        return {
            "completed": "是",
            "certified": "否",
            "transferred_to_job": "否",
            "subsidy_yuan": "1200",
            "fund_source": "就业资金",
            "trainee_satisfaction": "满意",
            **values,
        }

    lintao = dict(county="临洮县", township="城关镇", village="张家村")
    ledger = [
        course(
            **lintao,
            trainee_name="张三",
            id_number=ID_A,
            programme_name="就业技能培训",
            trade="电焊",
            institution="临洮县职业技术学校",
            start_date="2015-03-02",
            end_date="2015-03-21",
            certified="是",
            transferred_to_job="是",
        ),
        # the same person, programme and year again: padding, not counted
        course(
            **lintao,
            trainee_name="张三",
            id_number=ID_A,
            programme_name="就业技能",
            trade="电焊",
            institution="临洮县职业技术学校",
            start_date="2015-06-01",
            end_date="2015-06-20",
        ),
        course(
            **lintao,
            trainee_name="张三",
            id_number=ID_A,
            programme_name="新型职业农民培训",
            trade="养殖",
            institution="临洮县职业技术学校",
            start_date="2015-04-01",
            end_date="2015-04-08",
            fund_source="农业专项资金",
            subsidy_yuan="200",
        ),
        course(
            **lintao,
            trainee_name="李四",
            id_number=ID_B,
            programme_name="“两后生”职业技能学历教育培训",
            trade="汽修",
            institution=INSTITUTION_1,
            start_date="2015-09-01",
            end_date="2017-06-30",
        ),
        # the rounded ID twice in one programme and year: kept apart, both count
        course(
            county="渭源",
            township="会川镇",
            trainee_name="王五",
            id_number=ID_ROUNDED,
            programme_name="就业技能培训",
            trade="家政",
            institution=INSTITUTION_2,
            start_date="2015-05-10",
            end_date="2015-05-15",
            trainee_satisfaction="不满意",
        ),
        course(
            county="渭源",
            township="会川镇",
            trainee_name="王五",
            id_number=ID_ROUNDED,
            programme_name="就业技能培训",
            trade="家政",
            institution=INSTITUTION_2,
            start_date="2015-07-01",
            end_date="2015-07-20",
            trainee_satisfaction="基本满意",
        ),
        course(
            county="会宁县",
            township="郭城驿镇",
            trainee_name="孙七",
            id_number=ID_OLD,
            programme_name="岗位技能提升培训",
            trade="厨师",
            institution="会宁县某某培训学校",
            start_date="2015-06-10",
            end_date="2015-06-20",
            duration_hours="100",
            fund_source="扶贫资金",
        ),
        course(
            county="会宁县",
            township="郭城驿镇",
            trainee_name="吴九",
            id_number=ID_D,
            programme_name="劳务输转培训",
            trade="电焊",
            institution="会宁县某某培训学校",
            start_date="2015-06-05",
            end_date="2015-06-25",
        ),
        course(
            **lintao,
            trainee_name="郑十",
            id_number=ID_E,
            programme_name="电脑培训班",
            trade="计算机",
            institution="临洮县职业技术学校",
            start_date="2015-08-01",
            end_date="2015-08-20",
        ),
        course(
            **lintao,
            trainee_name="郑十",
            id_number=ID_E,
            programme_name="就业技能培训",
            trade="电焊",
            institution="临洮县职业技术学校",
            start_date="2016-02-01",
            end_date="2016-02-20",
        ),
    ]
    insert("training_records", ledger, "training_ledgers/2015.xlsx")

    insert(
        "institutions",
        [
            dict(
                institution_code=INSTITUTION_1,
                institution_name="临洮县职业技术学校",
                institution_type="公办职业院校",
                county="临洮县",
                approved_trades="电焊、厨师、汽修",
                annual_capacity="2000",
                qualification_valid_until="2018-12-31",
                contact_person="钱十一",
                contact_phone="13900000000",
            ),
            dict(
                institution_code=INSTITUTION_2,
                institution_name="渭源县阳光职业培训学校",
                institution_type="民办培训机构",
                county="渭源县",
                approved_trades="电焊,家政",
                annual_capacity="500",
                qualification_valid_until="2015-01-31",
            ),
        ],
        "institution_rosters/roster.xlsx",
    )

    war_map = [
        dict(
            county="临洮县",
            township="城关镇",
            village="张家村",
            target_persons="30",
            plan_employ="10",
            plan_farmer="5",
            responsible_person="钱十一",
            deadline="2015-12-31",
        ),
        dict(
            county="临洮县",
            township="城关镇",
            village="李家村",
            target_persons="20",
            plan_employ="8",
            responsible_person="钱十一",
            deadline="2015-12-31",
        ),
        dict(county="合计", target_persons="50", plan_employ="18", plan_farmer="5"),
    ]
    insert(
        "war_map_targets",
        war_map,
        "war_maps/chengguan.xlsx",
        sheet_title="临洮县城关镇2015年精准扶贫劳动力培训作战图 | 填报单位：城关镇人民政府",
    )
    insert(
        "war_map_targets",
        [
            dict(
                county="会宁县",
                township="郭城驿镇",
                village="红堡子村",
                target_persons="12",
                plan_upskill="3",
                deadline="2016-12-31",
            )
        ],
        "war_maps/guochengyi.xlsx",
        sheet_title="郭城驿镇劳动力培训作战图",
    )

    insert(
        "progress_reports",
        [
            dict(
                city="定西市", county="临洮县", report_month="2015-06", task_employ="61500", done_employ="5"
            ),
            dict(city="定西市", county="渭源县", township="会川镇", report_month="2015-06", done_employ="3"),
            dict(city="定西市", county="渭源县", township="莲峰镇", report_month="2015-06", done_employ="4"),
        ],
        "progress_reports/2015-06.xlsx",
    )
    insert(
        "village_statistics",
        [
            dict(
                city="定西市",
                county="临洮县",
                township="城关镇",
                village="张家村",
                total_households="120",
                is_old_revolutionary_area="否",
                is_ethnic_minority_village="否",
                reported_on="2015-03-01",
            )
        ],
        "village_sheets/lintao.xlsx",
    )
    con.close()


def run_dbt(*args: str, warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TRAINING_WAREHOUSE": str(warehouse),
        "TRAINING_PII_KEY": PII_KEY,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
    }
    return subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory) -> Path:
    """A warehouse built by `dbt build` from the raw world above; dbt's artifacts in target/."""
    folder = tmp_path_factory.mktemp("dbt_build")
    warehouse = folder / "training.duckdb"
    write_raw_world(warehouse)
    # models/dq belongs to the quality area and has its own tests; the marts and what they read
    # (the gap bridge reads dq.ledger_record_outcomes) are built here
    result = run_dbt(
        "build",
        "--select",
        "path:models/staging path:models/intermediate +path:models/marts",
        warehouse=warehouse,
        target=folder / "target",
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return folder


@pytest.fixture(scope="module")
def built(build_folder) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(build_folder / "training.duckdb"), read_only=True)
    yield con
    con.close()


def query(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchall()


def test_schemas_are_named_exactly(built):
    schemas = {r[0] for r in query(built, "select distinct table_schema from information_schema.tables")}
    assert {"raw", "staging", "marts", "reference"} <= schemas
    assert not {s for s in schemas if s.startswith("main_")}


def test_province_target_is_the_2015_task(built):
    rows = query(
        built,
        "select programme_code, annual_target, count(*) from marts.mart_province_attainment_monthly "
        "where year(month) = 2015 group by all",
    )
    assert {code: target for code, target, _ in rows} == TASK_2015
    assert all(months == 12 for _, _, months in rows)
    total = query(
        built,
        "select sum(annual_target) from marts.mart_province_attainment_monthly "
        "where month = date '2015-12-01'",
    )
    assert total == [(364_000,)]


def test_attainment_has_every_month_of_every_allocated_county_programme(built):
    rows = query(
        built,
        "select count(*), count(distinct county_code), count(distinct programme_code), count(distinct month) "
        "from marts.mart_target_attainment_monthly where year(month) = 2015",
    )
    assert rows == [(3 * 7 * 12, 3, 7, 12)]
    # the draft allocation of 临洮 (60000) was replaced by the final one
    assert query(
        built,
        "select distinct annual_target from marts.mart_target_attainment_monthly "
        "where county_code = '621124' and programme_code = 'EMPLOY' and year(month) = 2015",
    ) == [(61_500,)]


def test_counting_rule_one_per_person_programme_year(built):
    def ytd(county, programme, month):
        return query(
            built,
            "select enrolled_in_month, enrolled_ytd from marts.mart_target_attainment_monthly "
            "where county_code = ? and programme_code = ? and month = ?",
            county,
            programme,
            month,
        )[0]

    # 张三's second employment-skills course in June 2015 is padding
    assert ytd("621124", "EMPLOY", "2015-03-01") == (1, 1)
    assert ytd("621124", "EMPLOY", "2015-06-01") == (0, 1)
    assert ytd("621124", "EMPLOY", "2015-12-01") == (0, 1)
    # the rounded ID is two trainees (never merged by guess)
    assert ytd("621123", "EMPLOY", "2015-07-01") == (1, 2)
    # an old 15-digit ID is not valid but still one trainee-time in UPSKILL in 会宁
    assert ytd("620422", "UPSKILL", "2015-06-01") == (1, 1)
    province = query(
        built,
        "select enrolled_ytd from marts.mart_province_attainment_monthly "
        "where programme_code = 'EMPLOY' and month = date '2015-12-01'",
    )
    assert province == [(4,)]


def test_pro_rata_gap_and_reported_progress(built):
    row = query(
        built,
        "select expected_rate, gap, reported_ytd, report_minus_ledger, attainment_rate "
        "from marts.mart_target_attainment_monthly "
        "where county_code = '621123' and programme_code = 'EMPLOY' and month = date '2015-06-01'",
    )
    target = round(TASK_2015["EMPLOY"] * 0.3)
    expected_rate, gap, reported, report_minus_ledger, attainment = row[0]
    assert expected_rate == pytest.approx(0.5)
    assert float(gap) == pytest.approx(target / 2 - 1)
    assert reported == 7  # two township rows, 3 + 4
    assert report_minus_ledger == 6
    assert attainment == pytest.approx(1 / target, abs=1e-4)


def test_staging_keeps_unresolved_rows_with_a_reason(built):
    assert query(
        built,
        "select region_issue from staging.stg_task_allocations__allocations where county_name = '不存在县'",
    ) == [("county_not_recognised",)]
    assert query(
        built,
        "select programme_code, programme_issue from staging.stg_training_ledgers__records "
        "where programme_name = '电脑培训班'",
    ) == [(None, "programme_name_not_recognised")]
    assert query(
        built,
        "select distinct plan_year, plan_year_source from staging.stg_war_maps__village_plans order by 1",
    ) == [(2015, "sheet_title"), (2016, "deadline")]


def test_id_numbers_are_checked_not_repaired(built):
    rows = dict(query(built, "select id_number, id_status from staging.int_id_numbers_validated"))
    assert rows[ID_A] == "valid"
    assert rows[ID_OLD] == "old_15_digit"
    assert rows[ID_ROUNDED] == "rounded"
    assert rows[ID_BAD_CHECK] == "bad_check_digit"
    # the SQL check character agrees with python-stdnum on every ID it calls valid
    for id_number, status in rows.items():
        if status == "valid":
            assert ric.calc_check_digit(id_number) == id_number[-1]
        elif status == "bad_check_digit":
            assert ric.calc_check_digit(id_number) != id_number[-1]


def test_trainee_key_is_the_keyed_hash(built):
    digest = hmac_sha256_hex(f"person:{ID_A}", PII_KEY)[:32]
    expected = digest.translate(str.maketrans("0123456789", "ghijklmnop"))
    keys = query(
        built,
        "select distinct trainee_key from staging.int_training_enrolments_deduplicated where id_number = ?",
        ID_A,
    )
    assert keys == [(expected,)]
    assert query(built, "select count(*) from marts.dim_trainee where trainee_key = ?", expected) == [(1,)]


def test_duplicates_and_durations_are_flagged(built):
    rows = query(
        built,
        "select start_date::varchar, programme_code, is_duplicate, is_counted, duration_status, "
        "duplicate_of_row_number from staging.int_training_enrolments_deduplicated "
        "where id_number in (?, ?) order by start_date",
        ID_A,
        ID_ROUNDED,
    )
    assert rows == [
        ("2015-03-02", "EMPLOY", False, True, "ok", None),
        ("2015-04-01", "FARMER", False, True, "ok", None),
        ("2015-05-10", "EMPLOY", False, True, "too_short", None),
        ("2015-06-01", "EMPLOY", True, False, "ok", 4),
        ("2015-07-01", "EMPLOY", False, True, "ok", None),
    ]


def test_needs_are_classified_by_transparent_rules(built):
    rows = dict(
        (need, (programme, rule))
        for need, programme, rule in query(
            built,
            "select training_need, programme_code, coalesce(classification_rule, unclassified_reason) "
            "from staging.int_training_needs_classified",
        )
    )
    assert rows == {
        "想学电焊": ("EMPLOY", "keyword"),
        "就业技能": ("EMPLOY", "programme_name"),
        "养殖技术": ("FARMER", "keyword"),
        "厨师": ("EMPLOY", "keyword"),
        "不清楚": ("LEADER", "labour_category"),  # 致富带头人 points to LEADER
        "还没想好": (None, "no_rule_matches"),  # 新增劳动力 points nowhere: the text must speak
    }


def test_certificate_coverage_counts_households(built):
    rows = query(
        built,
        "select county_code, households_with_need, households_with_need_and_certificate "
        "from marts.mart_household_certificate_coverage where coverage_level = 'county' order by 1",
    )
    # 临洮: 李四 holds a certificate (and 张三 earned one); 渭源: nobody; 会宁: nobody
    assert rows == [("620422", 1, 0), ("621123", 1, 0), ("621124", 1, 1)]


def test_marts_hold_no_names_or_id_numbers(built):
    id_shaped = re.compile(r"\d{17}[\dXx]")
    secrets = {ID_A, ID_B, ID_C, ID_D, ID_E, ID_F, ID_OLD, ID_ROUNDED, ID_BAD_CHECK, *NAMES, "6211240001"}
    columns = query(
        built,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type = 'VARCHAR'",
    )
    assert columns
    leaks = []
    for table, column in columns:
        for (value,) in query(built, f'select distinct "{column}" from marts."{table}"'):
            if value is None:
                continue
            if id_shaped.search(value) or any(secret in value for secret in secrets):
                leaks.append((table, column, value))
    assert not leaks


def test_the_marts_id_check_finds_an_id_typed_into_free_text(build_folder, tmp_path):
    """dbt's assert_marts_hold_no_id_numbers, as this build compiled it, run on a copy of the
    warehouse where two institution names hold an ID: one is the ID alone (18 characters, the
    shortest value the check's length test lets through), one has it inside other text."""
    compiled = next((build_folder / "target" / "compiled").rglob("assert_marts_hold_no_id_numbers.sql"))
    sql = compiled.read_text(encoding="utf-8")
    warehouse = tmp_path / "training.duckdb"
    warehouse.write_bytes((build_folder / "training.duckdb").read_bytes())
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute(sql).fetchall() == []  # the build itself is clean
        first_two = "select institution_key from marts.dim_institution order by 1 limit 2"
        keys = [key for (key,) in con.execute(first_two).fetchall()]
        assert len(keys) == 2
        rename = "update marts.dim_institution set institution_name = ? where institution_key = ?"
        for key, name in zip(keys, [ID_D, f"甘肃{ID_E}职业培训学校"], strict=True):
            con.execute(rename, [name, key])
        found = con.execute(sql).fetchall()
    assert sorted(found) == sorted(
        [
            ("dim_institution", "institution_name", ID_D),
            ("dim_institution", "institution_name", f"甘肃{ID_E}职业培训学校"),
        ]
    )


def test_every_fact_row_finds_its_dimensions(built):
    orphans = query(
        built,
        """
        select count(*) from marts.fct_training_enrolments as f
        left join marts.dim_trainee as t on f.trainee_key = t.trainee_key
        left join marts.dim_programme as p on f.programme_code = p.programme_code
        left join marts.dim_region as r on f.region_key = r.region_key
        left join marts.dim_institution as i on f.institution_key = i.institution_key
        where t.trainee_key is null or p.programme_code is null or r.region_key is null
            or i.institution_key is null
        """,
    )
    assert orphans == [(0,)]
    assert query(built, "select count(*) from marts.fct_training_enrolments") == [(10,)]


def test_contract_names_are_present(built):
    """The marts' promised columns (tests/project/test_contract.py) on this build's warehouse too."""
    for (schema, table), needed in PROMISED.items():
        if schema != "marts":
            continue
        have = {
            r[0]
            for r in query(
                built,
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ?",
                table,
            )
        }
        assert have and needed <= have, table
    for table in [
        "dim_region",
        "dim_programme",
        "dim_institution",
        "dim_month",
        "mart_household_certificate_coverage",
        "mart_training_demand_match",
        "mart_institution_performance",
        "mart_training_funding",
    ]:
        assert query(built, f"select count(*) from marts.{table}")[0][0] > 0, table


def test_every_marts_column_is_described(built, build_folder):
    manifest = json.loads((build_folder / "target" / "manifest.json").read_text(encoding="utf-8"))
    described = {
        (node["name"], column): bool(spec.get("description"))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
        for column, spec in node["columns"].items()
    }
    columns = query(
        built, "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    )
    undocumented = [f"{table}.{column}" for table, column in columns if not described.get((table, column))]
    assert not undocumented


def _difference_models(build_folder: Path) -> dict[str, list[str]]:
    """Models built with incremental_strategy='difference', each with its unique key as a list."""
    manifest = json.loads((build_folder / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] == "model" and config.get("incremental_strategy") == "difference":
            key = config["unique_key"]
            models[node["name"]] = [key] if isinstance(key, str) else list(key)
    return models


def test_every_difference_model_has_its_key_tested_unique(build_folder):
    """The difference strategy is exact only while the query is unique on the key: a test says so."""
    manifest = json.loads((build_folder / "target" / "manifest.json").read_text(encoding="utf-8"))
    tested = set()
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        kwargs = metadata.get("kwargs", {})
        if metadata.get("name") == "unique":
            key = (kwargs["column_name"],)
        elif metadata.get("name") == "unique_combination_of_columns":
            key = tuple(kwargs["combination_of_columns"])
        else:
            continue
        for model in node["depends_on"]["nodes"]:
            tested.add((model.rsplit(".", 1)[-1], key))
    models = _difference_models(build_folder)
    assert {"dim_trainee", "dim_household", "fct_training_enrolments", "mart_village_work_list"} <= set(
        models
    )
    untested = [name for name, key in models.items() if (name, tuple(key)) not in tested]
    assert untested == []


def test_a_difference_model_ends_equal_to_a_fresh_build(build_folder, tmp_path):
    """On a copy of the build, the difference models' tables are tampered with the ways a real
    warehouse drifts from a query (a row gone, a value changed or emptied, a key the query no
    longer gives, a key held twice after a build that broke its unique test, a column an older
    version of the code had); `dbt run` of those models must leave each table equal, row for row
    and column for column, to the fresh build. The person dimension rewrites its three keys only,
    the facts their one; the duplicated key makes the household dimension, and the extra column
    the work list, be replaced whole."""
    models = _difference_models(build_folder)
    warehouse = tmp_path / "training.duckdb"
    warehouse.write_bytes((build_folder / "training.duckdb").read_bytes())
    with duckdb.connect(str(warehouse)) as con:
        first, last = con.execute(
            "select min(trainee_key), max(trainee_key) from marts.dim_trainee where not is_unknown"
        ).fetchone()
        assert first != last
        con.execute("delete from marts.dim_trainee where trainee_key = ?", [first])
        con.execute(
            "update marts.dim_trainee set education = '改过', sex = null where trainee_key = ?", [last]
        )
        con.execute(
            "insert into marts.dim_trainee select * replace ('no-longer-a-person' as trainee_key) "
            "from marts.dim_trainee where trainee_key = ?",
            [last],
        )
        con.execute(
            "insert into marts.dim_household select * from marts.dim_household where not is_unknown limit 1"
        )
        con.execute("alter table marts.mart_village_work_list add column left_by_older_code integer")
        con.execute("update marts.fct_training_enrolments set is_counted = not is_counted where rowid = 0")
    result = run_dbt("run", "--select", *models, warehouse=warehouse, target=tmp_path / "target")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{build_folder / 'training.duckdb'}' as fresh (read_only)")
        for name in models:
            schema = con.execute(
                "select table_schema from information_schema.tables where table_catalog = 'training' "
                "and table_name = ?",
                [name],
            ).fetchone()[0]
            mine, theirs = f"training.{schema}.{name}", f"fresh.{schema}.{name}"
            assert con.execute(f"describe {mine}").fetchall() == con.execute(f"describe {theirs}").fetchall()
            for left, right in [(mine, theirs), (theirs, mine)]:
                surplus = con.execute(
                    f"select count(*) from (from {left} except all from {right})"
                ).fetchone()[0]
                assert surplus == 0, (name, left)

    # what dbt said it did, table by table
    said = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert re.search(r'"marts"\."dim_trainee": 3 keys rewritten of \d+ rows', said), said[-3000:]
    assert re.search(r'"marts"\."fct_training_enrolments": 1 keys rewritten', said), said[-3000:]
    assert re.search(r'"marts"\."dim_household" holds a key more than once; replaced whole', said)
    assert re.search(r'"marts"\."mart_village_work_list" has other columns or types than its query', said)
