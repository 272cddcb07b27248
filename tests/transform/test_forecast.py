"""Issue 15, part 4: who will miss the year (marts.mart_attainment_forecast) and the 预计完成情况
sheet of the city and province reports. The method with last year's profile is a dbt unit test
(models/marts/reporting/_reporting__models.yml); the sample has one year, so here the first-year
methods are recomputed from the attainment mart."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import duckdb
import openpyxl

from orchestration.lib.reports.content import FORECAST_SHEET


def _sql(sample_build, query: str) -> list[tuple]:
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


def test_county_forecasts_follow_the_stated_method(sample_build):
    months = _sql(
        sample_build,
        """
        select county_code, programme_code, month(month), annual_target, enrolled_in_month, enrolled_ytd
        from marts.mart_target_attainment_monthly order by county_code, programme_code, month
        """,
    )
    forecast = {
        (c, p, m): rest
        for c, p, m, *rest in _sql(
            sample_build,
            "select region_code, programme_code, month(month), projected_year_end, needed_per_month,"
            " will_miss, method from marts.mart_attainment_forecast where region_level = 'county'",
        )
    }
    assert len(forecast) == len(months) > 0
    series: dict[tuple, list[int]] = {}
    for county, programme, month, target, in_month, ytd in months:
        done = series.setdefault((county, programme), [])
        done.append(in_month)
        recent = done[-3:]
        if month == 12:
            method, projected = "actual", ytd
        elif month <= 6:
            method, projected = "recent_3_months", ytd + sum(recent) / len(recent) * (12 - month)
        else:
            method, projected = "year_to_date_pace", ytd * 12 / month
        got_projected, needed, will_miss, got_method = forecast[(county, programme, month)]
        assert got_method == method
        assert abs(got_projected - projected) <= 0.5
        if target is not None:
            assert will_miss == (got_projected < target)
            expected_needed = (
                0 if ytd >= target else (math.ceil((target - ytd) / (12 - month)) if month < 12 else None)
            )
            assert needed == expected_needed


def _before_december(reports: Path) -> Path:
    """The latest month's report folder before December (December's year end is not a forecast)."""
    folders = sorted(p for p in reports.glob("????-??") if p.is_dir() and not p.name.endswith("-12"))
    assert folders
    return folders[-1]


def test_reports_show_the_forecast_with_a_dashed_line(sample_build):
    folder = _before_december(sample_build.settings.reports_dir)
    month = int(folder.name[5:])
    workbooks = sorted(folder.glob("*.xlsx"))
    assert any(p.name.startswith("620000_") for p in workbooks) and len(workbooks) > 1
    for workbook in workbooks:
        rows = list(
            openpyxl.load_workbook(workbook, read_only=True)[FORECAST_SHEET].iter_rows(values_only=True)
        )
        header = next(i for i, r in enumerate(rows) if r[0] == "月份")
        by_month = rows[header + 1 : header + 13]
        assert [r[0] for r in by_month] == [f"{k}月" for k in range(1, 13)]
        # done so far up to the month, the forecast from the month on, the target flat
        assert all(r[1] is not None for r in by_month[:month]) and all(r[1] is None for r in by_month[month:])
        assert by_month[month - 1][4] == by_month[month - 1][1]
        assert len({r[3] for r in by_month}) == 1
        with zipfile.ZipFile(workbook) as z:
            charts = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert any(
            "<c:lineChart>" in c and 'prstDash val="dash"' in c and "预计完成情况" in c for c in charts
        )
        page = workbook.with_suffix(".html").read_text(encoding="utf-8")
        assert re.search(
            r'<polyline points="[^"]+" fill="none" stroke="#4472C4" stroke-width="2" stroke-dasharray', page
        )


def test_city_report_names_the_counties_that_will_miss(sample_build):
    folder = _before_december(sample_build.settings.reports_dir)
    will_miss = _sql(
        sample_build,
        f"""
        select f.city_code, r.name_zh, sum(f.projected_year_end) < sum(f.annual_target)
        from marts.mart_attainment_forecast as f join reference.regions as r on f.region_code = r.region_code
        where f.region_level = 'county' and f.month = date '{folder.name}-01' and f.annual_target is not null
        group by all
        """,
    )
    assert will_miss
    for city, county, misses in will_miss:
        workbook = next(folder.glob(f"{city}_*.xlsx"))
        rows = list(
            openpyxl.load_workbook(workbook, read_only=True)[FORECAST_SHEET].iter_rows(values_only=True)
        )
        (row,) = [r for r in rows if r[0] == county]
        assert row[6] == ("预计完不成" if misses else "预计可完成")
