"""Ingest reads every format and every way offices write headers, dates, numbers and IDs."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from orchestration.lib.ingest.headers import HeaderIndex, normalise_header
from orchestration.lib.ingest.reader import parse_file
from orchestration.sources import PROGRAMME_CODES, PROGRAMME_NAMES, SOURCES
from tests.support.ingest_cases import (
    HOUSEHOLD_HEADERS,
    Formula,
    Warehouse,
    household_row,
    households,
    table,
    write_csv,
    write_ods,
    write_xls,
    write_xlsx,
)

FOLDER = "household_sheets"


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    return Warehouse(tmp_path)


def member_names(wh: Warehouse, source_file: str) -> list[tuple]:
    return wh.query(
        "select row_number, member_name, id_number, collected_on from raw.household_members "
        "where source_file = ? order by row_number",
        [source_file],
    )


@pytest.mark.parametrize(
    "name, writer",
    [
        ("a.xlsx", lambda p, rows: write_xlsx(p, {"户表": rows})),
        ("a.xls", lambda p, rows: write_xls(p, {"户表": rows})),
        ("a.ods", lambda p, rows: write_ods(p, {"户表": rows})),
        ("a.csv", lambda p, rows: write_csv(p, rows, "utf-8")),
        ("a-bom.csv", lambda p, rows: write_csv(p, rows, "utf-8-sig")),
        ("a-gb.csv", lambda p, rows: write_csv(p, rows, "gb18030")),
        ("a-tab.txt", lambda p, rows: write_csv(p, rows, "utf-16", delimiter="\t")),
    ],
)
def test_every_format_loads_with_lineage(wh, name, writer):
    rows = [["精准扶贫-劳动力培训户级采集表"], ["填报单位：康乐县城关镇"]] + households(3)
    writer(wh.file(FOLDER, name), rows)
    wh.ingest()
    source_file = f"{FOLDER}/{name}"
    state = wh.state(source_file)
    assert (state["status"], state["rows_read"], state["rows_loaded"]) == ("loaded", 3, 3)
    got = member_names(wh, source_file)
    # title rows 1-2, header row 3: data starts at spreadsheet row 4
    assert got == [(4 + i, f"马小{i}", f"62292219900101{i:03d}X", "2015-06-03") for i in range(3)]
    sheet, title = wh.one(
        "select distinct sheet, sheet_title from raw.household_members where source_file = ?", [source_file]
    )
    assert sheet == ("" if name.endswith((".csv", ".txt")) else "户表")
    assert title == "精准扶贫-劳动力培训户级采集表 | 填报单位:康乐县城关镇"
    assert wh.one("select file_sha256 = ? from raw.household_members limit 1", [state["file_sha256"]])


def test_header_variants_and_decorations_map_to_columns(wh):
    variants = {
        "市州": "市（州）",
        "县区": "县(市、区)",
        "乡镇": "乡 （镇）",
        "行政村": "村",
        "户编号": "建档立卡户编号",
        "姓名": "*成员姓名",
        "身份证号码": "公民身份号码\n（18位）",
        "培训需求": "培训意愿",
        "是否持有职业资格证书": "持证情况",
    }
    headers = [variants.get(h, h) for h in HOUSEHOLD_HEADERS]
    rows = [headers] + [[household_row(i).get(h) for h in HOUSEHOLD_HEADERS] for i in range(2)]
    write_xlsx(wh.file(FOLDER, "variants.xlsx"), {"Sheet1": rows})
    wh.ingest()
    assert wh.state(f"{FOLDER}/variants.xlsx")["rows_loaded"] == 2
    assert wh.codes(f"{FOLDER}/variants.xlsx") == set()  # every header recognised
    got = wh.query(
        "select city, county, township, village, training_need, has_certificate "
        "from raw.household_members order by row_number"
    )
    assert got[0] == ("临夏回族自治州", "康乐县", "城关镇", "胭脂村", "想学电焊", "否")


def test_header_found_in_row_7_and_rows_numbered_as_excel_shows(wh):
    title = [
        ["2015年精准扶贫劳动力培训户级采集表"],
        [],
        ["填报单位：城关镇"],
        ["填报日期：2015年6月"],
        [],
        [None, "单位：人"],
    ]
    write_xlsx(wh.file(FOLDER, "row7.xlsx"), {"S": title + households(2)})
    wh.ingest()
    assert [r[0] for r in member_names(wh, f"{FOLDER}/row7.xlsx")] == [8, 9]


def test_data_starting_in_column_c_keeps_columns_and_row_numbers(wh):
    rows = [[None, None, *r] for r in [[], ["户级采集表"]] + households(2)]
    write_xlsx(wh.file(FOLDER, "offset.xlsx"), {"S": rows})
    wh.ingest()
    assert [(r[0], r[1]) for r in member_names(wh, f"{FOLDER}/offset.xlsx")] == [(4, "马小0"), (5, "马小1")]


def test_every_date_form_becomes_iso(wh):
    forms = [
        dt.date(2015, 6, 3),  # a date cell
        42158,  # an Excel serial in a number cell
        "42158",  # the serial as text (csv export)
        "2015-06-03",
        "2015/6/3",
        "2015.06.03",
        "2015年6月3日",
        "20150603",
        "2015-6-3 00:00:00",
        " ２０１５年６月３日 ",  # full-width digits and padding
    ]
    rows = table(HOUSEHOLD_HEADERS, [household_row(i, 采集日期=form) for i, form in enumerate(forms)])
    write_xlsx(wh.file(FOLDER, "dates.xlsx"), {"S": rows})
    write_ods(wh.file(FOLDER, "dates.ods"), {"S": rows})
    wh.ingest()
    for name in ("dates.xlsx", "dates.ods"):
        got = [r[3] for r in member_names(wh, f"{FOLDER}/{name}")]
        assert got == ["2015-06-03"] * len(forms), name
        assert wh.codes(f"{FOLDER}/{name}") == set()


def test_unusable_dates_are_null_and_quarantined(wh):
    forms = ["2015-02-30", "明年", "1899-12-31", "2015", Formula("=1/0", "#DIV/0!"), "2031-01-01"]
    rows = table(HOUSEHOLD_HEADERS, [household_row(i, 采集日期=form) for i, form in enumerate(forms)])
    write_xlsx(wh.file(FOLDER, "baddates.xlsx"), {"S": rows})
    wh.ingest()
    source_file = f"{FOLDER}/baddates.xlsx"
    assert [r[3] for r in member_names(wh, source_file)] == [None, None, None, None, None, "2031-01-01"]
    assert wh.state(source_file)["rows_loaded"] == 6  # the rows themselves load
    assert [(q[1], q[2], q[3], q[4]) for q in wh.quarantine(source_file)] == [
        (2, "collected_on", "2015-02-30", "unparseable_date"),
        (3, "collected_on", "明年", "unparseable_date"),
        (4, "collected_on", "1899-12-31", "date_out_of_range"),
        (5, "collected_on", "2015", "unparseable_date"),
        (6, "collected_on", "#DIV/0!", "formula_error"),
    ]
    reason = wh.one("select reason from audit.quarantine where row_number = 2")
    assert reason == "日期无法识别：请按 2015-06-03 格式填写 [unparseable_date]"


def test_id_numbers_kept_as_text_and_number_typed_ones_flagged(wh):
    ids = [
        "62292219900101001x",
        6.2010219850101e17,
        410102850101011,
        " 622922 1990 0101 002X ",
        "6.20721E+17",
    ]
    rows = table(HOUSEHOLD_HEADERS, [household_row(i, 身份证号码=v) for i, v in enumerate(ids)])
    write_xlsx(wh.file(FOLDER, "ids.xlsx"), {"S": rows})
    wh.ingest()
    source_file = f"{FOLDER}/ids.xlsx"
    got = [r[2] for r in member_names(wh, source_file)]
    assert got == [
        "62292219900101001X",
        "6.2010219850101E+17",
        "410102850101011",
        "62292219900101002X",
        "6.20721E+17",
    ]
    assert [(q[1], q[2], q[4]) for q in wh.quarantine(source_file)] == [
        (3, "id_number", "id_number_typed_as_number"),
        (4, "id_number", "id_number_typed_as_number"),
        (6, "id_number", "id_number_rounded"),
    ]
    assert wh.state(source_file)["rows_loaded"] == 5  # flagged, never dropped or repaired


def test_blank_total_and_numbering_rows_are_skipped_and_counted(wh):
    header, d1, d2, d3, d4 = households(4)
    numbering = ["甲", "乙", *range(1, len(HOUSEHOLD_HEADERS) - 1)]
    rows = [
        header,
        numbering,
        d1,
        [],
        d2,
        ["合  计", None, None, None, None, None, "4人"],
        [None] * 5,
        d3,
        ["全县总计"],
        ["   "],
        d4,
        [],
        [],
    ]
    write_xlsx(wh.file(FOLDER, "skips.xlsx"), {"S": rows})
    wh.ingest()
    source_file = f"{FOLDER}/skips.xlsx"
    state = wh.state(source_file)
    # rows 2..11 are read (nothing after the last used row): 4 loaded; skipped: the numbering
    # row, blank rows 4 and 7, the row of spaces, 合计 and 总计
    assert (state["rows_read"], state["rows_loaded"], state["rows_quarantined"], state["rows_skipped"]) == (
        10,
        4,
        0,
        6,
    )
    assert [r[0] for r in member_names(wh, source_file)] == [3, 5, 8, 11]
    skipped_by = wh.one("select skipped_by from audit.ingest_files where source_file = ?", [source_file])
    assert json.loads(skipped_by) == {"numbering": 1, "blank": 3, "total": 2}


def test_repeated_header_rows_are_skipped_however_spaced(wh):
    """A header repeated below (a page break printed into the sheet) is skipped, whether written
    as is or with spaces between its characters."""
    header, d1, d2, d3 = households(3)
    spaced = [" ".join(str(h)) for h in header]  # no cell of the sheet is a header as written
    write_xlsx(wh.file(FOLDER, "spaced.xlsx"), {"S": [header, d1, spaced, d2, d3]})
    write_xlsx(wh.file(FOLDER, "plain.xlsx"), {"S": [header, d1, d2, list(header), d3]})
    wh.ingest()
    for name, loaded in (("spaced.xlsx", [2, 4, 5]), ("plain.xlsx", [2, 3, 5])):
        source_file = f"{FOLDER}/{name}"
        assert [r[0] for r in member_names(wh, source_file)] == loaded
        skipped_by = wh.one("select skipped_by from audit.ingest_files where source_file = ?", [source_file])
        assert json.loads(skipped_by) == {"header": 1}


def test_full_width_digits_spaces_and_counts_are_normalised(wh):
    headers = [
        "县区",
        "乡镇",
        "行政村",
        "总户数（户）",
        "总人口",
        "贫困户数",
        "贫困人口数",
        "劳动力人数",
        "有培训需求人数",
        "是否革命老区",
        "填报日期",
    ]
    rows = [
        headers,
        [
            "康乐县",
            "城关镇",
            "　胭脂村　",
            "１２０",
            "1,234人",
            " 56 ",
            "２,３４５",
            "12.0",
            "0",
            True,
            "２０１５．０６．０３",
        ],
    ]
    write_xlsx(wh.file("village_sheets", "v.xlsx"), {"S": rows})
    wh.ingest()
    got = wh.one(
        "select village, total_households, total_population, poor_households, poor_population, labour_force, "
        "persons_with_training_need, is_old_revolutionary_area, reported_on from raw.village_statistics"
    )
    assert got == ("胭脂村", "120", "1234", "56", "2345", "12", "0", "是", "2015-06-03")
    assert wh.codes("village_sheets/v.xlsx") == set()


def test_bad_counts_are_null_and_quarantined(wh):
    headers = ["县区", "乡镇", "行政村", "总户数", "总人口", "贫困户数", "贫困人口数"]
    rows = [headers, ["康乐县", "城关镇", "胭脂村", "-3", "十二", "12.5", Formula("=A1", "#REF!")]]
    write_xlsx(wh.file("village_sheets", "bad.xlsx"), {"S": rows})
    wh.ingest()
    got = wh.one(
        "select total_households, total_population, poor_households, poor_population "
        "from raw.village_statistics"
    )
    assert got == (None, None, None, None)
    assert [(q[2], q[3], q[4]) for q in wh.quarantine("village_sheets/bad.xlsx")] == [
        ("poor_households", "12.5", "not_a_whole_number"),
        ("poor_population", "#REF!", "formula_error"),
        ("total_households", "-3", "negative_number"),
        ("total_population", "十二", "not_a_number"),
    ]


def _progress_rows(
    month_cell: object = "2015年9月",
) -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    """A two-row merged progress report header: vertical merges, then a group per programme."""
    fixed = ["市州", "县区", "乡镇", "统计月份", "培训对象人数"]
    names = [("两后生" if code == "TWO_AFTER" else PROGRAMME_NAMES[code]) for code in PROGRAMME_CODES]
    top = fixed + [x for name in names for x in (name, None)]
    top += ["取得证书人数", "转移就业人数"]
    bottom = [None] * len(fixed) + ["任务数", "已完成"] * len(PROGRAMME_CODES) + [None, None]
    data = (
        ["临夏回族自治州", "康乐县", None, month_cell, "150"]
        + [str(10 + i) for i in range(14)]
        + ["30", "20"]
    )
    merges = [(2, c, 3, c) for c in range(len(fixed))]
    merges += [(2, len(fixed) + 2 * i, 2, len(fixed) + 2 * i + 1) for i in range(len(PROGRAMME_CODES))]
    merges += [(2, len(top) - 2, 3, len(top) - 2), (2, len(top) - 1, 3, len(top) - 1)]
    title = [["康乐县2015年9月精准扶贫劳动力培训任务进度统计汇总表"], ["填报单位：康乐县人社局"]]
    return title + [top, bottom, data], merges


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods", "csv"])
def test_two_row_merged_programme_header_is_flattened(wh, fmt):
    rows, merges = _progress_rows()
    path = wh.file("progress_reports", f"p.{fmt}")
    if fmt == "xlsx":
        write_xlsx(path, {"9月": rows}, {"9月": merges})
    elif fmt == "xls":
        write_xls(path, {"9月": rows}, {"9月": merges})
    elif fmt == "ods":  # no merge ranges reported: the group runs on over its sub-headers
        write_ods(path, {"9月": rows}, {"9月": [m for m in merges if m[0] == m[2]]})
    else:
        write_csv(path, rows)
    wh.ingest()
    columns = ", ".join(f"task_{c.lower()}, done_{c.lower()}" for c in PROGRAMME_CODES)
    got = wh.one(
        f"select county, township, report_month, target_persons, {columns}, certified_persons, "
        "transferred_persons, row_number from raw.progress_reports"
    )
    assert got == ("康乐县", None, "2015-09", "150", *[str(10 + i) for i in range(14)], "30", "20", 5)
    assert wh.codes(f"progress_reports/p.{fmt}") == set()


@pytest.mark.parametrize(
    "cell, month",
    [
        ("2015-09", "2015-09"),
        ("2015年9月", "2015-09"),
        ("2015年09月份", "2015-09"),
        ("201509", "2015-09"),
        (dt.date(2015, 9, 30), "2015-09"),
        ("2015/9/30", "2015-09"),
        (2015.10, "2015-10"),
        ("2015年1-9月", "2015-09"),
        ("２０１５－０９", "2015-09"),
    ],
)
def test_month_forms(wh, cell, month):
    rows, merges = _progress_rows(cell)
    write_xlsx(wh.file("progress_reports", "m.xlsx"), {"S": rows}, {"S": merges})
    wh.ingest()
    assert wh.one("select report_month from raw.progress_reports") == month


def test_war_map_programme_variants_and_year_in_title(wh):
    headers = [
        "县区",
        "乡镇",
        "行政村",
        "贫困户数",
        "贫困人口",
        "劳动力人数",
        "培训对象人数",
        "就业技能",
        "两后生培训",
        "劳务品牌",
        "新型职业农民",
        "致富带头人培训",
        "岗位技能提升",
        "SYB创业培训",
        "责任人",
        "完成时限",
    ]
    rows = [
        ["康乐县城关镇2015年精准扶贫劳动力培训作战图"],
        headers,
        ["康乐县", "城关镇", "胭脂村", 40, 160, 90, 30, 10, 3, 2, 1, 4, 0, 1, "马主任", "2015年12月31日"],
        ["合计", None, None, 40, 160, 90, 30, 10, 3, 2, 1, 4, 0, 1],
    ]
    write_xlsx(wh.file("war_maps", "w.xlsx"), {"作战图": rows})
    wh.ingest()
    got = wh.one(
        "select village, target_persons, plan_employ, plan_two_after, plan_brand, plan_farmer, "
        "plan_leader, plan_upskill, plan_startup, deadline, sheet_title from raw.war_map_targets"
    )
    assert got == (
        "胭脂村",
        "30",
        "10",
        "3",
        "2",
        "1",
        "4",
        "0",
        "1",
        "2015-12-31",
        "康乐县城关镇2015年精准扶贫劳动力培训作战图",
    )
    assert wh.state("war_maps/w.xlsx")["rows_skipped"] == 1


def test_merged_cells_down_data_rows_fill_every_row(wh):
    rows = households(3, 县区=None)
    rows[1][HOUSEHOLD_HEADERS.index("县区")] = "康乐县"
    col = HOUSEHOLD_HEADERS.index("县区")
    write_xlsx(wh.file(FOLDER, "merged.xlsx"), {"S": rows}, {"S": [(1, col, 3, col)]})
    wh.ingest()
    assert wh.query("select county from raw.household_members order by row_number") == [("康乐县",)] * 3


def test_sheets_of_one_workbook_keep_their_own_lineage(wh):
    """Sheets laid out alike are normalised together; each row keeps its sheet, row and title."""
    township_a = [["城关镇户级采集表"]] + households(2)
    township_b = [["胭脂镇户级采集表"], ["填报单位：胭脂镇"]] + table(
        HOUSEHOLD_HEADERS, [household_row(5, 采集日期="2015-02-30"), household_row(6)]
    )
    reordered = table(list(reversed(HOUSEHOLD_HEADERS)), [household_row(7)])
    write_xlsx(
        wh.file(FOLDER, "multi.xlsx"), {"城关镇": township_a, "胭脂镇": township_b, "另一种": reordered}
    )
    wh.ingest()
    got = wh.query(
        "select sheet, row_number, member_name, sheet_title from raw.household_members order by member_name"
    )
    assert got == [
        ("城关镇", 3, "马小0", "城关镇户级采集表"),
        ("城关镇", 4, "马小1", "城关镇户级采集表"),
        ("胭脂镇", 4, "马小5", "胭脂镇户级采集表 | 填报单位:胭脂镇"),
        ("胭脂镇", 5, "马小6", "胭脂镇户级采集表 | 填报单位:胭脂镇"),
        ("另一种", 2, "马小7", ""),
    ]
    assert [(q[0], q[1], q[2], q[4]) for q in wh.quarantine(f"{FOLDER}/multi.xlsx")] == [
        ("胭脂镇", 4, "collected_on", "unparseable_date")
    ]
    assert wh.state(f"{FOLDER}/multi.xlsx")["rows_loaded"] == 5


def test_small_chunks_split_and_join_sheets_without_losing_rows(tmp_path):
    """parse_file alone (as the benchmark calls it): chunks of 3 rows across sheets of 5 and 4."""
    path = write_xlsx(tmp_path / "chunks.xlsx", {"一": households(5), "二": households(4, 采集日期="不详")})
    parsed = parse_file(path, "household_members", tmp_path / "out", "x/chunks.xlsx", chunk_rows=3)
    assert (parsed.status, parsed.rows_read, parsed.rows_loaded, parsed.cells_quarantined) == (
        "loaded",
        9,
        9,
        4,
    )
    with duckdb.connect() as con:
        rows = con.execute("select sheet, row_number from read_parquet(?) order by 1, 2", [parsed.row_parts])
        assert rows.fetchall() == [("一", r) for r in range(2, 7)] + [("二", r) for r in range(2, 6)]
        cells = con.execute(
            "select sheet, row_number, reason_code from read_parquet(?) order by 1, 2",
            [parsed.quarantine_parts],
        ).fetchall()
    assert cells == [("二", r, "unparseable_date") for r in range(2, 6)]
    assert [(s.name, s.rows_loaded) for s in parsed.sheets] == [("一", 5), ("二", 4)]


def test_header_index_has_no_conflicting_variants():
    for name, source in SOURCES.items():
        index = HeaderIndex.of(name)
        for column in source.columns:
            for text in (column.header, *column.variants):
                assert index.match(normalise_header(text)) == column.name, (name, text)


def test_normalise_header_handles_full_width_spaces_and_stars():
    assert normalise_header(" *县（市、区）\n") == "县(市、区)"
    assert normalise_header("“两后生”职业技能学历教育培训") == "两后生职业技能学历教育培训"
