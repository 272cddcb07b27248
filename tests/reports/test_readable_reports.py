"""The reports read well (issue 17): 本月新增 filled, gaps whose parts add up to their totals,
round chart ticks, the title once, check titles in Chinese, short text on one line in the HTML,
rows tall enough for their wrapped text, and the contact and deadline for corrections on top."""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
import zipfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from orchestration.lib.quality.catalog import CHECKS, SEVERITY_ZH
from orchestration.lib.reports import data
from orchestration.lib.reports.builder import write_city_reports, write_province_summary
from orchestration.lib.reports.content import axis_scale, corrections_notice
from orchestration.lib.reports.workbook import LINE_HEIGHT, _wrapped_lines, wrapped_lines
from orchestration.settings import Settings

# 2015-01: a county whose exact gap rounds to 11 while its programmes' rounded gaps add to 9
MONTHS = ("2015-01", "2015-10")
CORRECTIONS = data.Corrections("省人社厅职业能力建设处 王明 0931-8123456", 10)
NOTICE_2015_10 = (
    "请于2015年11月10日前核实更正本报告所列问题并重新报送；联系人：省人社厅职业能力建设处 王明 0931-8123456"
)


@pytest.fixture(scope="module")
def reports(sample_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("readable")
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        source = data.ReportData(con)
        for month in MONTHS:
            on = date(2015, 11, 2)
            write_city_reports(con, month, out, on, report_data=source, corrections=CORRECTIONS)
            write_province_summary(con, month, out, on, report_data=source)
    return out


def workbooks(out: Path, month: str | None = None, province: bool | None = None) -> list[Path]:
    paths = sorted(out.glob(f"{month or '*'}/*.xlsx"))
    if province is not None:
        paths = [p for p in paths if p.name.startswith("620000") == province]
    assert paths
    return paths


def sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


def table(rows: list[list[object]], title: str) -> tuple[list, list[list], list | None]:
    """(header, data rows, total row) of the table titled ``title`` (its title cell starts with it)."""
    start = next(i for i, r in enumerate(rows) if r and isinstance(r[0], str) and r[0].startswith(title))
    header, body, total = rows[start + 1], [], None
    for row in rows[start + 2 :]:
        if not row or row[0] is None or all(v is None for v in row[1:]):  # blank, or the table's note
            break
        if row[0] == "合计":
            total = row
            break
        body.append(row)
    return header, body, total


# --- 本月新增 in the province summary --------------------------------------------------------


def test_province_detail_shows_the_months_new_trainee_times(sample_build, reports):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        for path in workbooks(reports, province=True):
            month = path.parent.name
            mart = {
                (city, programme): n
                for city, programme, n in con.execute(
                    "select coalesce(city_name, city_code), programme_name_zh, enrolled_in_month "
                    "from marts.mart_city_attainment_monthly where month = ?",
                    [data.month_start(month)],
                ).fetchall()
            }
            header, body, _ = table(sheet_rows(path, "分项目进度"), "任务完成进度：按市州和培训项目")
            column = header.index("本月新增（人次）")
            shown = {(r[0], r[1]): r[column] for r in body}
            assert shown == mart, month
            assert any(n for n in mart.values()), f"{month}: the mart has no enrolment this month"


# --- gaps: each row from its own target, every total the sum of its rows ------------------------


def expected_persons(target: int, month: str) -> int:
    """target × month ÷ 12, rounded half up, in whole persons."""
    return math.floor(target * data.month_start(month).month / 12 + 0.5)


def test_each_gap_is_whole_persons_from_its_own_row_and_totals_add_up(reports):
    checked_totals = 0
    for path in workbooks(reports):
        month = path.parent.name
        area = "市州" if path.name.startswith("620000") else "县区"
        header, detail, _ = table(sheet_rows(path, "分项目进度"), "任务完成进度")
        titles = ("年度任务（人次）", "累计完成（人次）", "进度差额（人次）")
        target, done, gap = (header.index(t) for t in titles)
        for r in detail:
            assert r[gap] == expected_persons(r[target], month) - r[done], (path.name, r)
        header, by_area, total = table(sheet_rows(path, "任务进度"), f"{data.month_zh(month)}任务完成进度")
        gap_by_area = header.index("进度差额（人次）")
        assert header[0] == area
        for r in by_area:
            assert r[gap_by_area] == sum(d[gap] for d in detail if d[0] == r[0]), (path.name, r[0])
            checked_totals += 1
        assert total[gap_by_area] == sum(r[gap_by_area] for r in by_area)
    assert checked_totals >= 4


def test_the_county_that_rounded_to_11_against_9_now_adds_up(sample_build, reports):
    """肃南 in January 2015: the exact gaps of its seven programmes sum to 10.67 (shown as 11)
    while each, rounded, added to 9: the county's gap is now the sum of the programme rows."""
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        exact = con.execute(
            "select sum(gap) from marts.mart_target_attainment_monthly "
            "where month = date '2015-01-01' and county_code = '620721'"
        ).fetchone()[0]
    (path,) = [p for p in workbooks(reports, "2015-01", province=False) if "张掖市" in p.name]
    _, detail, _ = table(sheet_rows(path, "分项目进度"), "任务完成进度")
    _, by_area, _ = table(sheet_rows(path, "任务进度"), "2015年1月任务完成进度")
    (county,) = [r for r in by_area if r[0] == "肃南裕固族自治县"]
    parts = [r[7] for r in detail if r[0] == "肃南裕固族自治县"]
    assert round(float(exact)) == 11 and len(parts) == 7
    assert county[5] == sum(parts) == 10


def test_township_gaps_add_up_to_the_township(reports):
    checked = 0
    for path in workbooks(reports, province=False):
        rows = sheet_rows(path, "乡镇进度")
        header, summary, _ = table(rows, f"{data.month_zh(path.parent.name)}各乡镇作战图任务完成进度")
        _, detail, _ = table(rows, "各乡镇分项目进度")
        gap = header.index("进度差额（人次）")
        for r in summary:
            parts = [d[6] or 0 for d in detail if (d[0], d[1]) == (r[0], r[1])]
            assert r[gap] == sum(parts), (path.name, r[:2])
            behind = sum(int(n) for n in re.findall(r" (\d+)(?:、|$)", r[7] or ""))
            assert behind == sum(p for p in parts if p >= 1), (path.name, r[:2])
            checked += 1
    assert checked >= 6


# --- round chart ticks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "whole", "expected"),
    [
        (1.0, False, (1.0, 0.2)),  # 0/20/40/60/80/100 %
        (0.91, False, (1.0, 0.2)),
        (1.0855, False, (1.25, 0.25)),  # 0/25/…/125 %
        (165, True, (200, 50)),
        (464, True, (500, 100)),
        (12, True, (15, 5)),  # no step of 2.5 persons
        (3, True, (3, 1)),
    ],
)
def test_axis_scale_is_round(largest, whole, expected):
    assert axis_scale(largest, whole=whole) == pytest.approx(expected)


class _Svg(HTMLParser):
    """The y-axis labels (right-aligned text) of each <svg> of a page."""

    def __init__(self):
        super().__init__()
        self.axes: list[list[str]] = []
        self._label = False

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.axes.append([])
        self._label = tag == "text" and ("text-anchor", "end") in attrs

    def handle_data(self, text):
        if self._label:
            self.axes[-1].append(text)
            self._label = False


def round_steps(values: list[float]) -> bool:
    """From 0, evenly spaced by 1, 2, 2.5 or 5 × a power of ten."""
    step = values[1] - values[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    return (
        values[0] == 0
        and any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
        and all(math.isclose(b - a, step) for a, b in zip(values, values[1:], strict=False))
    )


def test_html_chart_ticks_are_round(reports):
    axes = 0
    for page in reports.glob("*/*.html"):
        parser = _Svg()
        parser.feed(page.read_text(encoding="utf-8"))
        for labels in parser.axes:
            values = [float(v.rstrip("%").replace(",", "")) for v in labels]
            assert len(values) >= 3 and round_steps(values), (page.name, labels)
            if labels[-1].endswith("%"):
                assert values[-1] >= 100 and (values[-1] % 20 == 0 or values[-1] % 25 == 0), labels
            axes += 1
    assert axes >= 8


def test_workbook_chart_axes_are_round(reports):
    for path in workbooks(reports):
        with zipfile.ZipFile(path) as z:
            charts = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts
        for xml in charts:
            top = float(re.search(r'<c:max val="([^"]+)"', xml).group(1))
            step = float(re.search(r'<c:majorUnit val="([^"]+)"', xml).group(1))
            assert round_steps([0, step, 2 * step]) and math.isclose(top / step, round(top / step))


# --- the title once, check titles in Chinese ------------------------------------------------------


class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag if tag in ("h1", "h2", "h3", "a", "title") else None

    def handle_data(self, text):
        if self._tag:
            self.headings.append((self._tag, text))
            self._tag = None


CHECK_CODE = re.compile(r"[a-z]+(?:_[a-z]+)+")


def test_html_title_appears_once_and_headings_are_chinese(reports):
    for page in reports.glob("*/*.html"):
        parser = _Headings()
        parser.feed(page.read_text(encoding="utf-8"))
        (title,) = [text for tag, text in parser.headings if tag == "h1"]
        assert [text for tag, text in parser.headings if tag != "title"].count(title) == 1, page.name
        assert not [text for _, text in parser.headings if CHECK_CODE.search(text)], page.name


def test_no_sheet_title_carries_a_check_code(reports):
    codes = [check.name for check in CHECKS]
    titled = 0
    for path in workbooks(reports, province=False):
        book = openpyxl.load_workbook(path, read_only=True)
        for ws in book.worksheets:
            title = next(ws.iter_rows(max_row=1, values_only=True))[0]
            assert not CHECK_CODE.search(ws.title) and not CHECK_CODE.search(title), (path.name, title)
            assert not [code for code in codes if code in title]
            check = next((c for c in CHECKS if title.startswith(f"{c.title_zh}（")), None)
            if check:
                severity = SEVERITY_ZH[check.severity]
                assert re.fullmatch(rf"{re.escape(check.title_zh)}（{severity}）：\d+ 条", title), title
                titled += 1
    assert titled >= 10


# --- short text on one line in the HTML ----------------------------------------------------------


class _Tables(HTMLParser):
    """Per table: header cells (text, style) and the class of each body cell by column."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell = None
        self._text = ""
        self._column = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"head": [], "classes": {}})
        elif tag == "tr":
            self._column = 0
        elif tag in ("th", "td"):
            self._cell = (tag, attrs)

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            kind, attrs = self._cell
            t = self.tables[-1]
            if kind == "th":
                t["head"].append((self._text, attrs.get("style", "")))
            else:
                t["classes"].setdefault(t["head"][self._column][0], set()).add(attrs.get("class"))
                self._column += 1
            self._cell, self._text = None, ""

    def handle_data(self, text):
        if self._cell:
            self._text += text


def test_html_names_and_places_stay_on_one_line(reports):
    css_nowrap = re.compile(r"td\.t \{ white-space: nowrap; \}")
    one_line = {"县区", "乡镇", "行政村", "姓名", "期间", "市州", "培训项目", "工作表", "性别", "意向工种"}
    seen = set()
    for page in reports.glob("*/*.html"):
        text = page.read_text(encoding="utf-8")
        assert css_nowrap.search(text)
        parser = _Tables()
        parser.feed(text)
        for t in parser.tables:
            for title, style in t["head"]:
                # a header of up to 6 characters gets the width of one line (em: a Chinese character)
                width = float(re.search(r"min-width:([\d.]+)em", style).group(1))
                ems = sum(1 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5 for ch in title)
                assert width >= min(ems, 6), (page.name, title)
            for title, classes in t["classes"].items():
                if title in one_line:
                    assert classes == {"t"}, (page.name, title, classes)
                    seen.add(title)
                elif title in ("问题说明", "来源文件"):
                    assert classes == {None}, (page.name, title)  # long text wraps
    assert {"县区", "乡镇", "行政村", "姓名", "期间"} <= seen


# --- xlsx rows tall enough for their wrapped text --------------------------------------------------


def test_wrapped_lines_breaks_like_a_spreadsheet():
    assert wrapped_lines("肃南裕固族自治县", 60) == 1
    assert wrapped_lines("一\n二", 60) == 2
    # 13 characters in a column of 14 (13 for text): 6 a line, so 3 lines, not ceil(26 / 13) = 2
    assert wrapped_lines("从事农业生产和服务的劳动力", 14) == 3
    # a word that does not fit moves to the next line whole and leaves the rest of the line empty
    assert wrapped_lines("一 abcdefghi 二", 11) == 3
    assert wrapped_lines("x" * 30, 11) == 4  # longer than a line: broken where each line is full


@given(
    text=st.text(alphabet="x1-*X 一二甘肃\n", max_size=40),
    width=st.one_of(st.integers(1, 60), st.floats(1, 60, allow_nan=False)),
)
@example(text="x" * 10, width=12)  # ten times 1.1 adds up to a hair under the 11 units of a line
@example(text="x" * 11, width=13)  # 12.1 units in a line of 12: two lines
@example(text="620102********123X", width=22)  # a masked ID in its column
def test_the_shortcuts_count_the_lines_the_full_measure_does(text, width):
    """A text known to fit at a glance (short, or ASCII at 1.1 units a character) takes the
    lines the character-by-character measure gives it."""
    assert wrapped_lines(text, width) == _wrapped_lines(text, width)


def lower_bound_lines(text: str, width: float) -> int:
    """At least this many lines: the text's width (a Chinese character 2, others 1) over the
    column's, whatever the breaks."""
    units = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    return max(math.ceil(units / width), text.count("\n") + 1)


def test_rows_are_tall_enough_for_their_wrapped_text(reports):
    checked = 0
    for path in workbooks(reports, "2015-10"):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            columns = range(1, ws.max_column + 2)
            widths = {i: ws.column_dimensions[get_column_letter(i)].width or 8.43 for i in columns}
            merged = {(r.min_row, r.min_col): range(r.min_col, r.max_col + 1) for r in ws.merged_cells.ranges}
            for row in ws.iter_rows():
                for cell in row:
                    if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                        continue
                    columns = merged.get((cell.row, cell.column), [cell.column])
                    lines = lower_bound_lines(cell.value, sum(widths[c] for c in columns))
                    if lines > 1:
                        height = ws.row_dimensions[cell.row].height or 15
                        where = (path.name, ws.title, cell.coordinate, cell.value)
                        assert height >= lines * LINE_HEIGHT, where
                        checked += 1
    assert checked > 100


# --- who takes corrections, and by when ------------------------------------------------------------


def test_the_contact_and_deadline_are_on_top_of_every_city_report(reports):
    for path in workbooks(reports, "2015-10", province=False):
        rows = sheet_rows(path, "概况")
        assert rows[1][0] == NOTICE_2015_10
        page = path.with_suffix(".html").read_text(encoding="utf-8")
        assert f'<p class="notice">{NOTICE_2015_10}</p>' in page
        assert page.index('class="notice"') < page.index("<nav>")
    for path in workbooks(reports, "2015-01", province=False):
        assert sheet_rows(path, "概况")[1][0].startswith("请于2015年2月10日前")
    # the province summary lists no rows to fix
    for path in workbooks(reports, province=True):
        assert 'class="notice"' not in path.with_suffix(".html").read_text(encoding="utf-8")


def test_the_corrections_line_says_what_is_set():
    assert corrections_notice(data.Corrections(), "2015-10") == ""
    # the 31st of a month of 30 days is its last day; December's reports are due in January
    assert corrections_notice(data.Corrections(deadline_day=31), "2015-10").startswith("请于2015年11月30日前")
    assert corrections_notice(data.Corrections(deadline_day=5), "2015-12").startswith("请于2016年1月5日前")
    contact_only = corrections_notice(data.Corrections("张三 0931-1"), "2015-10")
    assert contact_only == "核实更正本报告所列问题，请联系：张三 0931-1"


def test_settings_read_the_contact_and_deadline(monkeypatch):
    monkeypatch.setenv("TRAINING_REPORT_CONTACT", " 省人社厅 王明 ")
    monkeypatch.setenv("TRAINING_REPORT_DEADLINE_DAY", "10")
    settings = Settings.from_env()
    assert (settings.report_contact, settings.report_deadline_day) == ("省人社厅 王明", 10)
    monkeypatch.setenv("TRAINING_REPORT_DEADLINE_DAY", "")
    assert Settings.from_env().report_deadline_day is None
    for bad in ("0", "32", "tenth"):
        monkeypatch.setenv("TRAINING_REPORT_DEADLINE_DAY", bad)
        with pytest.raises(ValueError, match="TRAINING_REPORT_DEADLINE_DAY"):
            Settings.from_env()


def test_a_new_contact_rewrites_the_city_reports_only(sample_build, tmp_path):
    def write(corrections):
        with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
            cities = write_city_reports(con, "2015-10", tmp_path, date(2015, 11, 2), corrections=corrections)
            province = write_province_summary(con, "2015-10", tmp_path, date(2015, 11, 2))
        return cities, province

    cities, province = write(None)
    assert 'class="notice"' not in cities.written[1].read_text(encoding="utf-8")
    again, province_again = write(CORRECTIONS)
    assert sorted(again.written) == sorted(cities.written) and province_again.written == []
    assert NOTICE_2015_10 in again.written[1].read_text(encoding="utf-8")


def test_the_asset_prints_the_settings_contact_and_deadline(sample_build, tmp_path):
    from orchestration.defs.reports.assets import city_quality_reports
    from orchestration.resources import build_resources

    settings = dataclasses.replace(
        sample_build.settings,
        reports_dir=tmp_path,
        report_contact="省人社厅职业能力建设处 王明 0931-8123456",
        report_deadline_day=10,
    )
    resources = build_resources(settings)
    dg.materialize(
        [city_quality_reports],
        partition_key="2015-10",
        resources={k: resources[k] for k in ("paths", "warehouse", "report_settings")},
    )
    pages = list((tmp_path / "2015-10").glob("62*.html"))
    assert pages and all(NOTICE_2015_10 in p.read_text(encoding="utf-8") for p in pages)
