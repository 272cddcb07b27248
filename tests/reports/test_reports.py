"""The monthly reports: each city's workbook and HTML page hold only that city, IDs masked, and
say what dq.findings and the attainment marts say; the province summary holds no person."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.lib.quality.catalog import CHECKS
from orchestration.lib.quality.masking import mask_id
from orchestration.lib.reports import data, freshness
from orchestration.lib.reports.builder import Outcome, write_city_reports, write_province_summary
from orchestration.lib.reports.content import (
    COUNT,
    FORECAST_SHEET,
    INGEST_CHECKS,
    NOT_LOADED_SHEET,
    REPORTING_SHEET,
    TOWNSHIP_SHEET,
    Column,
    Report,
    Sheet,
    Table,
)
from orchestration.lib.reports.html import cut_note, render
from orchestration.lib.reports.work_list import HTML_ROWS as WORK_LIST_HTML_ROWS
from orchestration.lib.reports.work_list import SHEET_PREFIX as WORK_LIST_PREFIX
from tests.conftest import SAMPLE_RAW_DIR

MONTH = "2015-10"
ID_SHAPED = re.compile(r"\d{17}[\dXx]|(^|\D)\d{15}($|\D)")
MASKED_ID = re.compile(r"^[0-9.]{6}\*+[0-9X+E]{4}$")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SAMPLE_RAW_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def written(sample_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        cities = write_city_reports(con, MONTH, out, generated_on=date(2015, 11, 2)).written
        province = write_province_summary(con, MONTH, out, generated_on=date(2015, 11, 2)).written
    return out, cities, province


def cells(path: Path) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def table_after(rows: list[list[object]], first_header: str) -> list[list[object]]:
    """The data rows of the table whose header row starts with ``first_header``."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    body = []
    for row in rows[start + 1 :]:
        if not row or row[0] is None or row[0] == "合计":
            break
        body.append(row)
    return body


def raw_people(warehouse: Path) -> dict[tuple[str, str, int], str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_file, sheet, row_number, member_name from raw.household_members "
            "union all select source_file, sheet, row_number, trainee_name from raw.training_records"
        ).fetchall()
    return {(f, s, n): name for f, s, n, name in rows}


def test_one_workbook_and_page_per_city_and_the_province_beside_them(written, manifest):
    out, cities, province = written
    city_names = {c["city_code"]: c["city"] for c in manifest["counties"]}
    expected = {
        f"{code}_{name}{suffix}" for code, name in city_names.items() for suffix in (".xlsx", ".html")
    }
    assert {p.name for p in cities} == expected
    assert {p.name for p in province} == {"620000_甘肃省.xlsx", "620000_甘肃省.html"}
    assert {p.parent for p in cities + province} == {out / MONTH}


def test_a_month_without_data_writes_nothing(sample_build, tmp_path):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        assert write_city_reports(con, "2019-03", tmp_path).files == []
        assert write_province_summary(con, "2019-03", tmp_path).files == []
    assert list(tmp_path.iterdir()) == []


def test_city_workbook_says_what_dq_findings_says(sample_build, written, manifest):
    out, cities, _ = written
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        for path in (p for p in cities if p.suffix == ".xlsx"):
            city_code = path.stem.split("_")[0]
            sheets = cells(path)
            assert list(sheets)[:3] == ["概况", "任务进度", "分项目进度"]
            as_of = dict(
                con.execute(
                    "select check_name, count(*) from dq.findings where city_code = ? "
                    "and (as_of_month is null or as_of_month <= ?) group by all",
                    [city_code, data.month_start(MONTH)],
                ).fetchall()
            )
            last = dict(
                con.execute(
                    "select check_name, count(*) from dq.findings where city_code = ? "
                    "and (as_of_month is null or as_of_month <= ?) group by all",
                    [city_code, data.month_start(data.previous_month(MONTH))],
                ).fetchall()
            )
            not_loaded = table_after(sheets[NOT_LOADED_SHEET], "序号")
            assert len(not_loaded) == sum(as_of.get(name, 0) for name in INGEST_CHECKS)
            summary = {r[0]: r for r in table_after(sheets["概况"], "检查项")}
            assert len(summary) == len(CHECKS)
            for check in CHECKS:
                row = summary[check.title_zh]
                total, before = row[-4], row[-3]
                assert (total, before) == (as_of.get(check.name, 0), last.get(check.name, 0)), check.name
                detail = check.title_zh[:31].replace("/", "")
                if check.name in INGEST_CHECKS:  # listed together on their own sheet
                    assert detail not in sheets
                elif as_of.get(check.name):
                    rows = table_after(sheets[detail], "序号")
                    assert len(rows) == as_of[check.name]
                else:
                    assert detail not in sheets


def test_city_workbook_holds_only_its_own_city(sample_build, written, manifest):
    out, cities, _ = written
    county_names = {c["county"]: c["city_code"] for c in manifest["counties"]}
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        # each file's city, from its rows (the province-wide task allocation has several)
        file_city = dict(
            con.execute(
                """
                with rows as (
                    select source_file, city_code from staging.stg_household_sheets__members
                    union all select source_file, city_code from staging.stg_training_ledgers__records
                    union all select source_file, city_code from staging.stg_village_sheets__villages
                    union all select source_file, city_code from staging.stg_war_maps__village_plans
                    union all select source_file, city_code from staging.stg_progress_reports__reports
                )
                select source_file, min(city_code) from rows where city_code is not null
                group by source_file having count(distinct city_code) = 1
                """
            ).fetchall()
        )
    assert file_city
    people = raw_people(sample_build.settings.warehouse)
    checked_people = 0
    for path in (p for p in cities if p.suffix == ".xlsx"):
        city_code = path.stem.split("_")[0]
        for title, rows in cells(path).items():
            flat = [v for r in rows for v in r if isinstance(v, str)]
            assert not [v for v in flat if ID_SHAPED.search(v)], f"{path.name}/{title}: an ID number in full"
            if title in (
                "概况",
                "任务进度",
                "分项目进度",
                TOWNSHIP_SHEET,
                FORECAST_SHEET,
            ) or title.startswith(WORK_LIST_PREFIX):
                continue  # the work lists are checked in tests/transform/test_village_work_list.py
            header = next(r for r in rows if r and r[0] == "序号")
            col = {name: i for i, name in enumerate(header)}
            for row in table_after(rows, "序号"):
                assert county_names.get(row[col["县区"]], city_code) == city_code
                if row[col["来源文件"]] in file_city:
                    assert file_city[row[col["来源文件"]]] == city_code
                if "姓名" in col:
                    where = (row[col["来源文件"]], row[col["工作表"]] or "", row[col["行号"]])
                    assert row[col["姓名"]] == people[where].strip()
                    assert MASKED_ID.match(row[col["身份证号码（部分隐藏）"]]), row[
                        col["身份证号码（部分隐藏）"]
                    ]
                    checked_people += 1
    assert checked_people > 0


def test_city_workbook_has_a_native_chart_of_attainment(written):
    _, cities, _ = written
    workbook = next(p for p in cities if p.suffix == ".xlsx")
    with zipfile.ZipFile(workbook) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts
        xml = z.read(charts[0]).decode("utf-8")
    assert "<c:barChart>" in xml and "<c:lineChart>" in xml
    assert "任务进度" in xml  # the series read the attainment table of that sheet
    rows = cells(workbook)["任务进度"]
    table = table_after(rows, "县区")
    assert table and all(0 <= r[3] <= 2 and r[4] == pytest.approx(10 / 12, abs=1e-4) for r in table)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_html_pages_are_self_contained(written):
    _, cities, province = written
    for path in (p for p in cities + province if p.suffix == ".html"):
        page = path.read_text(encoding="utf-8")
        parser = _Page()
        parser.feed(page)
        assert "svg" in parser.tags and "table" in parser.tags
        assert not {"script", "link", "img", "iframe", "object"} & set(parser.tags)
        assert not [a for a, v in parser.attrs if a in ("src", "href") and v and not v.startswith("#")]
        assert "http" not in page and "url(" not in page and "@import" not in page
        assert not ID_SHAPED.search("".join(parser.text))


def test_html_twin_lists_the_same_rows_as_the_workbook(written):
    _, cities, _ = written
    for workbook in (p for p in cities if p.suffix == ".xlsx"):
        sheets = cells(workbook)
        # the page shows a county's work list up to WORK_LIST_HTML_ROWS rows (and says so)
        details = sum(
            min(len(table_after(rows, "序号")), WORK_LIST_HTML_ROWS)
            if title.startswith(WORK_LIST_PREFIX)
            else len(table_after(rows, "序号"))
            for title, rows in sheets.items()
            if title not in ("概况", "任务进度", "分项目进度", TOWNSHIP_SHEET, FORECAST_SHEET)
        )
        page = workbook.with_suffix(".html").read_text(encoding="utf-8")
        # every detail row starts with its number in a numeric cell, then the county (one line)
        assert details == len(re.findall(r'<tr><td class="n">\d+</td><td class="t">', page))


def test_a_table_cut_short_on_the_page_says_how_many_rows_the_workbook_holds():
    columns = [Column("序号", COUNT), Column("姓名")]
    rows = [[i, f"人{i}"] for i in range(1, 6)]
    cut = Table("名单", columns, rows, html_rows=2)
    page = render(Report("x", "报告", "", [Sheet("名单", "名单", [cut])]))
    assert re.findall(r'<tr><td class="n">(\d+)</td>', page) == ["1", "2"]
    assert cut_note(2, 5) in page and "共 5 行" in cut_note(2, 5)
    whole = render(Report("x", "报告", "", [Sheet("名单", "名单", [Table("名单", columns, rows)])]))
    assert re.findall(r'<tr><td class="n">(\d+)</td>', whole) == ["1", "2", "3", "4", "5"]
    assert "网页只列出" not in whole


def test_province_summary_holds_no_person(sample_build, written):
    _, _, province = written
    people = {name.strip() for name in raw_people(sample_build.settings.warehouse).values() if name}
    workbook = next(p for p in province if p.suffix == ".xlsx")
    sheets = cells(workbook)
    assert list(sheets) == [
        "概况",
        "任务进度",
        "分项目进度",
        FORECAST_SHEET,
        REPORTING_SHEET,
        "待培训名单汇总",
    ]
    values = {v.strip() for rows in sheets.values() for r in rows for v in r if isinstance(v, str)}
    assert not values & people
    assert not [v for v in values if ID_SHAPED.search(v)]
    page = workbook.with_suffix(".html").read_text(encoding="utf-8")
    assert not [name for name in people if len(name) >= 3 and f">{name}<" in page]


def test_the_pipeline_wrote_every_data_month(sample_build):
    reports = sample_build.settings.reports_dir
    months = sorted(p.name for p in reports.iterdir() if p.is_dir())
    assert months == [f"2015-{m:02d}" for m in range(1, 13)]
    for month in months:
        assert (reports / month / "620000_甘肃省.xlsx").exists()
    # a fresh build writes every report and says so: one event for the run, and one per month
    # written, so the UI's partition view shows those months as materialized
    events = [
        e
        for e in sample_build.result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "reports/city_quality_reports"
    ]
    (event,) = [e for e in events if e.partition is None]
    assert sorted(e.partition for e in events if e.partition is not None) == months
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    city_files = [
        p for p in reports.rglob("*") if p.suffix in (".xlsx", ".html") and not p.name.startswith("620000")
    ]
    assert metadata["files_written"] == metadata["files"] == len(city_files)
    assert metadata["files_unchanged"] == 0
    assert metadata["months_written"] == metadata["months_with_data"] == 12


# --- the people beside a city's findings -------------------------------------------------------


def test_people_at_reads_the_same_people_as_the_staging_views(sample_build):
    """The materialised staging tables give each finding's row the name and ID the views give."""
    about_a_row = [check.name for check in CHECKS if check.about_a_row]
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        findings = data.ReportData(con).findings(data.data_months(con)[-1])  # all of them
        people = data.people_at(con, findings)
        from_views = con.execute(
            """
            with wanted as (
                select distinct source_file, sheet, row_number
                from dq.findings
                where row_number is not null and list_contains($checks, check_name)
            ),

            people as (
                select source_file, sheet, row_number, member_name as person_name, id_number
                from staging.stg_household_sheets__members
                union all
                select source_file, sheet, row_number, trainee_name as person_name, id_number
                from staging.stg_training_ledgers__records
            )

            select people.* from people inner join wanted using (source_file, sheet, row_number)
            """,
            {"checks": about_a_row},
        ).fetchall()
    assert len(from_views) > 20
    assert people == {
        (f, s, n): (name or "", mask_id(number) if number else "") for f, s, n, name, number in from_views
    }
    shown = [masked for _, masked in people.values() if masked]
    assert shown and all("*" in masked and not ID_SHAPED.search(masked) for masked in shown)


def test_a_city_gets_only_the_people_of_its_own_findings(sample_build):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        source = data.ReportData(con)
        cities = source.cities(MONTH)
        inputs = [source.city_inputs(MONTH, city) for city in cities]
        province = source.province_inputs(MONTH)
    assert len(cities) >= 2
    for city_inputs in inputs:
        own_rows = {(r["source_file"], r["sheet"], r["row_number"]) for r in city_inputs.now}
        assert city_inputs.people and set(city_inputs.people) <= own_rows
        assert {r["city_code"] for r in city_inputs.now + city_inputs.before} == {city_inputs.city.code}
    # the province summary counts findings: no row, no detail, no person
    assert province.now and {key for r in province.now for key in r} == {
        "check_name",
        "severity",
        "city_code",
        "is_new",
    }


# --- a report is rewritten only when what it is built from changed -----------------------------

SKIP_MONTHS = ("2015-09", "2015-10", "2015-11")


def write_months(warehouse: Path, out: Path, months=SKIP_MONTHS, generated_on=date(2015, 12, 1)) -> Outcome:
    """Every report of the months, as the assets write them: one ReportData for the run."""
    outcome = Outcome()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        source = data.ReportData(con)
        for month in months:
            outcome += write_city_reports(con, month, out, generated_on, report_data=source)
            outcome += write_province_summary(con, month, out, generated_on, report_data=source)
    return outcome


def stamps(out: Path) -> dict[Path, tuple[int, int]]:
    """Each report file → (mtime in ns, size)."""
    return {
        p: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*") if p.suffix in (".xlsx", ".html")
    }


def test_a_second_run_over_the_same_warehouse_writes_nothing(sample_build, tmp_path):
    first = write_months(sample_build.settings.warehouse, tmp_path)
    assert first.written and not first.unchanged
    before = stamps(tmp_path)
    assert set(before) == set(first.written)
    # one fingerprint record per report, and no temporary file left behind
    for month in SKIP_MONTHS:
        records = {p.stem for p in (tmp_path / month / ".fingerprints").iterdir()}
        assert records == {p.stem for p in first.written if p.parent.name == month}
    assert not [p for p in tmp_path.rglob("*") if ".writing" in p.name]

    second = write_months(sample_build.settings.warehouse, tmp_path, generated_on=date(2016, 1, 4))
    assert second.written == []
    assert sorted(second.unchanged) == sorted(first.written)
    assert stamps(tmp_path) == before
    page = (tmp_path / MONTH / "620000_甘肃省.html").read_text(encoding="utf-8")
    assert "生成日期：2015-12-01" in page  # the date its content last changed


def test_a_changed_finding_rewrites_only_its_citys_reports_from_its_month(sample_build, tmp_path):
    warehouse = tmp_path / "training.duckdb"
    shutil.copyfile(sample_build.settings.warehouse, warehouse)
    out = tmp_path / "reports"
    first = write_months(warehouse, out)
    before = stamps(out)
    with duckdb.connect(str(warehouse)) as con:
        finding_key, city_code = con.execute(
            "select finding_key, city_code from dq.findings "
            "where as_of_month = ? and city_code is not null order by finding_key limit 1",
            [data.month_start(MONTH)],
        ).fetchone()
        con.execute(
            "update dq.findings set detail = detail || '（已核实）' where finding_key = ?", [finding_key]
        )

    second = write_months(warehouse, out)
    # the finding counts from its month on: that city's reports of 2015-10 and 2015-11 change,
    # not 2015-09, not the other city, not the province summary (its counts are the same)
    expected = {
        p for p in first.written if p.name.startswith(city_code) and p.parent.name in ("2015-10", "2015-11")
    }
    assert len(expected) == 4
    assert set(second.written) == expected
    assert set(second.unchanged) == set(first.written) - expected
    after = stamps(out)
    assert {p for p in before if after[p] != before[p]} == expected
    for path in expected:
        assert "（已核实）" in path.with_suffix(".html").read_text(encoding="utf-8")


def test_a_deleted_file_or_a_new_report_version_writes_again(sample_build, tmp_path, monkeypatch):
    first = write_months(sample_build.settings.warehouse, tmp_path, months=[MONTH])
    workbook = next(p for p in first.written if p.suffix == ".xlsx" and not p.name.startswith("620000"))
    workbook.unlink()
    again = write_months(sample_build.settings.warehouse, tmp_path, months=[MONTH])
    assert set(again.written) == {workbook, workbook.with_suffix(".html")}
    assert workbook.is_file()

    monkeypatch.setattr(freshness, "REPORT_VERSION", freshness.REPORT_VERSION + 1)
    bumped = write_months(sample_build.settings.warehouse, tmp_path, months=[MONTH])
    assert sorted(bumped.written) == sorted(first.written) and bumped.unchanged == []


def test_the_asset_reports_what_it_wrote_and_what_was_up_to_date(sample_build, tmp_path):
    import dataclasses

    import dagster as dg

    from orchestration.defs.reports.assets import city_quality_reports
    from orchestration.resources import build_resources

    resources = build_resources(dataclasses.replace(sample_build.settings, reports_dir=tmp_path))

    def run() -> dict:
        result = dg.materialize(
            [city_quality_reports],
            partition_key=MONTH,
            resources={k: resources[k] for k in ("paths", "warehouse", "report_settings")},
        )
        (event,) = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}

    first, second = run(), run()
    assert first["files_written"] == first["files"] == len(list((tmp_path / MONTH).glob("*.xlsx"))) * 2 > 0
    assert (second["files_written"], second["files_unchanged"]) == (0, first["files"])
    assert second["months_written"] == 0 and second["months_with_data"] == 1
