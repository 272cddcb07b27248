"""The village work list (issue 14, items 3 and 4), recounted on the sample build.

The counts per village come from the staging household sheets and ledgers with SQL of its own
(ID texts, not the warehouse's person keys), so a mistake in the mart's joins shows as a
difference here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.lib.reports.builder import write_city_reports
from orchestration.lib.reports.data import data_months, month_zh
from orchestration.lib.reports.work_list import SHEET_PREFIX

MONTH = "2015-10"
ID_SHAPED = re.compile(r"\d{17}[\dXx]|(^|\D)\d{15}($|\D)")
MASKED_ID = re.compile(r"^[0-9.]{6}\*+[0-9X+E]{4}$")  # as tests/test_reports.py: rounded IDs too

# a person is an 18-character ID text; a row with any other ID is a person of its own
DIRECT_WAITING_PER_VILLAGE = """
with members as (
    select
        *,
        case
            when regexp_full_match(id_number, '[0-9]{17}[0-9X]') then id_number
            else source_file || '|' || sheet || '|' || row_number
        end as person
    from staging.stg_household_sheets__members
),

latest as (
    select * from members
    qualify row_number() over (
        partition by person
        order by collected_on desc nulls last, ingested_at desc, source_file, sheet, row_number
    ) = 1
),

ledger_years as (
    select distinct year(start_date) as year
    from staging.stg_training_ledgers__records
    where start_date between date '2015-01-01' and date '2020-12-31'
),

trained as (
    select distinct id_number, year(start_date) as year
    from staging.stg_training_ledgers__records
    where start_date is not null
)

select ledger_years.year, latest.county_code, latest.township_name, latest.village_name, count(*) as persons
from latest
cross join ledger_years
where
    latest.has_training_need
    and not exists (
        select 1 from trained where trained.id_number = latest.person and trained.year = ledger_years.year
    )
group by all
"""


@pytest.fixture(scope="module")
def con(sample_build):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as connection:
        yield connection


def per_village(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple, int]:
    return {tuple(row[:-1]): row[-1] for row in con.execute(sql).fetchall()}


def test_work_list_count_per_village_equals_a_direct_count(con):
    direct = per_village(con, DIRECT_WAITING_PER_VILLAGE)
    listed = per_village(
        con,
        """
        select year, county_code, township_name, village_name, count(*)
        from marts.mart_village_work_list
        group by all
        """,
    )
    assert sum(direct.values()) > 100  # the sample has hundreds of people waiting
    assert listed == direct


def test_summary_adds_up_the_list_at_every_level(con):
    levels = {
        "village": "county_code, township_name, village_name",
        "township": "county_code, township_name, null",
        "county": "county_code, null, null",
    }
    for level, columns in levels.items():
        from_list = per_village(
            con,
            f"""
            select year, {columns}, programme_code, count(*) from marts.mart_village_work_list group by all
            union all
            select year, {columns}, 'ALL', count(*) from marts.mart_village_work_list group by all
            """,
        )
        summary = per_village(
            con,
            f"""
            select year, county_code, township_name, village_name, programme_code, persons_waiting
            from marts.mart_village_work_summary where summary_level = '{level}'
            """,
        )
        assert summary == from_list, level


def test_households_flagged_without_certificate_have_no_certificate_anywhere(con):
    flagged, certified_but_flagged = con.execute(
        """
        with keys as (
            select distinct household_number, household_key from staging.int_household_members_resolved
        ),
        certified_numbers as (
            -- 是否持有职业资格证书 = 是 on the sheet, or a ledger course with an appraisal level
            select household_number from staging.stg_household_sheets__members where has_certificate
            union
            select members.household_number
            from staging.stg_training_ledgers__records as ledger
            inner join staging.stg_household_sheets__members as members
                on ledger.id_number = members.id_number
            where ledger.certified
              and ledger.certificate_level in ('初级工', '中级工', '高级工', '技师', '高级技师')
        ),
        flagged as (
            select distinct household_key
            from marts.mart_village_work_list
            where household_without_certificate
        )
        select
            count(*),
            count(*) filter (
                where keys.household_number in (select household_number from certified_numbers)
            )
        from flagged
        inner join keys using (household_key)
        """
    ).fetchone()
    assert flagged > 0
    assert certified_but_flagged == 0


def test_nearest_to_certificate_is_a_member_of_the_household_with_an_ended_uncertified_course(con):
    rows = con.execute(
        """
        select
            list.household_without_certificate,
            members.household_key = list.household_key as same_household,
            exists (
                select 1 from marts.fct_training_enrolments as e
                where e.trainee_key = list.nearest_to_certificate_key
                  and e.end_date = list.nearest_to_certificate_course_ended_on
                  and e.end_date <= list.as_of_date
                  and e.programme_code = list.nearest_to_certificate_programme_code
            ) as has_that_course
        from marts.mart_village_work_list as list
        left join staging.int_household_members_resolved as members
            on members.trainee_key = list.nearest_to_certificate_key and members.is_latest_registration
        where list.nearest_to_certificate_key is not null
        """
    ).fetchall()
    assert rows, "no household on the sample's list has a member near a certificate"
    assert all(without and same and course for without, same, course in rows)


def test_flags_follow_the_village_sheet_and_the_birth_date(con):
    wrong = con.execute(
        """
        select count(*)
        from marts.mart_village_work_list as list
        left join (
            select county_code, township_name, village_name,
                   bool_or(is_old_revolutionary_area) as old_area,
                   bool_or(is_ethnic_minority_village) as ethnic
            from staging.stg_village_sheets__villages group by all
        ) as villages using (county_code, township_name, village_name)
        left join (
            -- age on 31 December from the ID's birth year (the sample's ledgers end in December);
            -- an old 15-digit ID writes the year in two digits, all of them 19xx
            select trainee_key,
                   2015 - cast(case length(id_number)
                       when 18 then substr(id_number, 7, 4)
                       else '19' || substr(id_number, 7, 2)
                   end as integer) as age
            from staging.int_household_members_resolved
            where is_latest_registration and regexp_full_match(id_number, '[0-9]{17}[0-9X]|[0-9]{15}')
        ) as ages using (trainee_key)
        where list.is_old_revolutionary_area != coalesce(villages.old_area, false)
           or list.is_ethnic_minority_village != coalesce(villages.ethnic, false)
           or list.is_young_prime_age != coalesce(ages.age between 16 and 45, false)
           or list.is_priority != (list.is_old_revolutionary_area or list.is_ethnic_minority_village
                                   or list.is_young_prime_age)
        """
    ).fetchone()[0]
    assert wrong == 0
    (ethnic,) = con.execute(
        "select count_if(is_ethnic_minority_village) from marts.mart_village_work_list"
    ).fetchone()
    assert ethnic > 0


def test_each_city_report_has_a_work_list_sheet_per_county_sorted_with_masked_ids(sample_build, tmp_path):
    """In the report of the year's latest month with data (the list is the year's, not the month's)."""
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        latest = max(m for m in data_months(con) if m.startswith("2015"))
        written = write_city_reports(con, latest, tmp_path, generated_on=date(2016, 1, 2)).written
        expected = dict(
            con.execute(
                "select county_name, count(*) from marts.mart_village_work_list"
                " where year = 2015 group by all"
            ).fetchall()
        )
        names = {
            name
            for (name,) in con.execute(
                "select member_name from staging.int_household_members_resolved where member_name is not null"
            ).fetchall()
        }
    seen = {}
    for path in (p for p in written if p.suffix == ".xlsx"):
        book = openpyxl.load_workbook(path, read_only=True)
        for ws in book.worksheets:
            if not ws.title.startswith(SHEET_PREFIX):
                continue
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            header_at = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
            header = rows[header_at]
            body = [r for r in rows[header_at + 1 :] if r and r[0] is not None]
            col = {name: i for i, name in enumerate(header)}
            county = ws.title.removeprefix(SHEET_PREFIX + "-")
            seen[county] = len(body)
            places = [(r[col["乡镇"]], r[col["行政村"]]) for r in body]
            assert places == sorted(places), ws.title
            for r in body:
                assert MASKED_ID.match(r[col["身份证号码（部分隐藏）"]]), r
                assert r[col["姓名"]] in names
                near = r[col["其身份证号码（部分隐藏）"]]
                assert not near or MASKED_ID.match(near)
            flat = [v for r in rows for v in r if isinstance(v, str)]
            assert not [v for v in flat if ID_SHAPED.search(v)], ws.title
    assert seen == expected


def test_earlier_reports_of_the_year_point_to_the_latest_for_the_work_list(sample_build, tmp_path):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        latest = max(m for m in data_months(con) if m.startswith("2015"))
        written = write_city_reports(con, MONTH, tmp_path, generated_on=date(2015, 11, 2)).written
    assert latest != MONTH
    books = [openpyxl.load_workbook(p, read_only=True) for p in written if p.suffix == ".xlsx"]
    assert books
    for book in books:
        assert not [ws.title for ws in book.worksheets if ws.title.startswith(SHEET_PREFIX)]
        overview = " ".join(str(v) for r in book["概况"].iter_rows(values_only=True) for v in r if v)
        assert f"本年待培训名单附在{month_zh(latest)}的报告中" in overview


def test_the_readme_queries_over_the_work_list_run(con):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = "--" + readme.split("-- 5. Who in each village", 1)[1].split("-- 7.", 1)[0]
    statements = [s for s in block.split(";") if "select" in s]
    assert len(statements) == 2
    for statement in statements:
        assert con.execute(statement).fetchall(), statement
