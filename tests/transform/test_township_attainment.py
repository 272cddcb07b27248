"""Issue 15, part 2: where each township stands against its war map
(marts.mart_township_attainment_monthly) and the township sheet of each city report."""

from __future__ import annotations

import duckdb
import openpyxl

from orchestration.lib.reports.content import TOWNSHIP_SHEET
from tests.support.record_accounting import city_report, latest_report_dir


def _sql(sample_build, query: str) -> list[tuple]:
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


def test_township_plans_are_the_war_maps(sample_build):
    mismatched = _sql(
        sample_build,
        """
        with mart as (
            select year, county_code, township, programme_code, annual_target
            from marts.mart_township_attainment_monthly
            where region_level = 'township' and month(month) = 12 and annual_target is not null
        ),
        plans as (
            select plan_year as year, county_code, township_name as township, programme_code,
                   sum(planned_trainee_times) as annual_target
            from marts.fct_war_map_plans where county_code != 'UNKNOWN' group by all
        )
        select * from mart full join plans using (year, county_code, township, programme_code)
        where mart.annual_target is distinct from plans.annual_target
        """,
    )
    assert mismatched == []


def test_townships_add_up_to_the_county_ledger(sample_build):
    # the county roll-up counts exactly the county mart's trainee-times, month by month
    mismatched = _sql(
        sample_build,
        """
        select county.month, county.county_code, county.programme_code
        from marts.mart_township_attainment_monthly as county
        join marts.mart_target_attainment_monthly as mart using (month, county_code, programme_code)
        where county.region_level = 'county' and county.enrolled_ytd != mart.enrolled_ytd
        """,
    )
    assert mismatched == []
    sums = _sql(
        sample_build,
        """
        select count(*) filter (where county.enrolled_ytd != t.enrolled_ytd
                                or county.annual_target is distinct from t.annual_target)
        from marts.mart_township_attainment_monthly as county
        join (
            select month, county_code, programme_code, sum(enrolled_ytd) as enrolled_ytd,
                   sum(annual_target) as annual_target
            from marts.mart_township_attainment_monthly where region_level = 'township' group by all
        ) as t using (month, county_code, programme_code)
        where county.region_level = 'county'
        """,
    )
    assert sums == [(0,)]


def test_city_report_has_a_township_sheet_behind_first(sample_build):
    reports = latest_report_dir(sample_build.settings.reports_dir)
    month = f"{reports.name}-01"
    expected = _sql(
        sample_build,
        f"""
        select county_code, city_code, township, sum(gap) as gap
        from marts.mart_township_attainment_monthly
        where region_level = 'township' and month = date '{month}'
        group by all
        """,
    )
    cities = {city for _, city, _, _ in expected}
    assert cities
    for city in cities:
        path = city_report(sample_build.settings.reports_dir, city)
        sheet = openpyxl.load_workbook(path, read_only=True)[TOWNSHIP_SHEET]
        rows = [r for r in sheet.iter_rows(values_only=True)]
        header = next(i for i, r in enumerate(rows) if r[0] == "县区" and r[1] == "乡镇")
        body = []
        for r in rows[header + 1 :]:
            if r[0] is None or r[2] is None or not isinstance(r[6], int):
                break
            body.append(r)
        mine = [e for e in expected if e[1] == city]
        assert len(body) == len(mine)
        gaps = [r[6] for r in body]
        assert gaps == sorted(gaps, reverse=True), "the township furthest behind comes first"
        assert {r[1] for r in body} == {e[2] or "（未填乡镇）" for e in mine}
