"""Issue 15, part 3: reporting completeness and timeliness (marts.mart_reporting_completeness),
the report_missing check and the reporting rate per city in the province report. The mart's
rules on planted cases (a month never sent, a superseded row, a late one, one without 填报日期)
are a dbt unit test in models/marts/reporting/_reporting__models.yml."""

from __future__ import annotations

import duckdb
import openpyxl

from orchestration.lib.reports.content import REPORTING_SHEET
from tests.support.record_accounting import latest_report_dir


def _sql(sample_build, query: str) -> list[tuple]:
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


def test_received_date_is_the_filled_in_date_of_the_sheet(sample_build):
    rows = _sql(
        sample_build,
        """
        select distinct raw.sheet_title, stg.received_date
        from raw.progress_reports as raw
        join staging.stg_progress_reports__reports as stg using (source_file, sheet, row_number)
        """,
    )
    dated = [(title, day) for title, day in rows if "填报日期" in (title or "")]
    assert dated, "the sample's reports carry 填报日期 rows"
    for title, day in dated:
        assert day is not None and f"{day.year}年{day.month}月{day.day}日" in title, title
    assert all(day is None for title, day in rows if "填报日期" not in (title or ""))


def test_sample_counties_send_every_month_and_on_time_follows_the_rule(sample_build):
    rows = _sql(
        sample_build,
        "select is_expected, is_received, received_date, due_date, timeliness, days_late"
        " from marts.mart_reporting_completeness",
    )
    assert rows and all(expected and received for expected, received, *_ in rows)
    for *_, received, due, timeliness, days_late in rows:
        if received is None:
            assert timeliness == "date_unknown"
        else:
            assert due.day == 5 and (due.month - received.month) % 12 in (0, 1, 11)
            assert timeliness == ("on_time" if received <= due else "late")
            assert days_late == (None if received <= due else (received - due).days)
    assert {t for *_, t, _ in rows} >= {"on_time", "late", "date_unknown"}, "the sample has all three"
    missing = _sql(sample_build, "select count(*) from dq.findings where check_name = 'report_missing'")
    assert missing == [(0,)]


def test_province_report_shows_the_reporting_rate_per_city(sample_build):
    folder = latest_report_dir(sample_build.settings.reports_dir)
    workbook = next(folder.glob("620000_*.xlsx"))
    rows = list(openpyxl.load_workbook(workbook, read_only=True)[REPORTING_SHEET].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "市州")
    body = {r[0]: r for r in rows[header + 1 :] if r[0] and isinstance(r[1], int)}
    expected = _sql(
        sample_build,
        f"""
        select regions.name_zh, count(*) filter (where is_expected),
               count(*) filter (where is_expected and is_received)
        from marts.mart_reporting_completeness as c
        join reference.regions as regions on c.city_code = regions.region_code
        where c.month <= date '{folder.name}-01' and year(c.month) = {folder.name[:4]}
        group by all
        """,
    )
    assert expected
    for city, due, received in expected:
        assert body[city][1:4] == (due, received, round(received / due, 4))
    assert body["合计"][1] == sum(e[1] for e in expected)
