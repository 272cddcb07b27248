"""Bad-input corpus, part two: what tests/test_ingest_bad_inputs.py does not already cover.

That module holds the first ~40 cases (one per way a file goes wrong). These add the same
kinds of trouble in the other formats and sources, and what a real province adds on top: formula
errors in .xls and .ods, IDs in full-width digits, 合计 rows in every wide report, SQL in file
and sheet names, a file name with a line break, sub-folders, a folder linked from outside, GB18030
beyond GBK, and a 300,000-row .xlsx.

All cases sit in one raw folder and go through ONE ingest run. Each case states its outcome
(status, rows read and loaded, the exact set of quarantine codes, or the failure's code and
the words its message must name), and beyond the per-case checks the module proves:

- nothing crashes: every other file loads beside the bad ones;
- nothing is lost without a record: every file on disk has an audit row; for every loaded
  file rows_read = rows_loaded + rows_quarantined + rows_skipped, the quarantined rows each
  have a row-level quarantine entry, the skipped ones are counted by reason in skipped_by,
  and rows_read is the number of rows the file really has below its header.

An outcome the product does not reach yet is marked `known_gap`: a strict xfail with the
reason, so it shows in every run's summary and turns into a failure once it is fixed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingest.assets import ingest_check_result
from orchestration.sources import SOURCES
from tests.ingest_cases import (
    HOUSEHOLD_HEADERS,
    Warehouse,
    household_row,
    households,
    table,
    write_csv,
    write_ods,
    write_xls,
    write_xlsx,
)
from tests.reliability_helpers import assert_row_accounting
from tests.test_ingest_bad_inputs import (
    INSTITUTION,
    PROGRESS_HEADER,
    PROGRESS_SUB,
    TASKS,
    TRAINING,
    VILLAGE,
    WAR_MAP,
    institution,
    training,
    village,
    war,
)

HH, VIL, INS, TRN, WAR, PRG, TSK = (s.folder for s in SOURCES.values())


@dataclass
class Case:
    name: str
    folder: str
    filename: str  # may hold sub-folders
    build: Callable[[Path], None]
    status: str  # loaded | failed | duplicate
    rows_read: int = 0  # rows below the header the file really has (loaded files)
    rows_loaded: int = 0
    codes: set[str] = field(default_factory=set)  # quarantine reason codes of the file, exactly
    error_code: str | None = None  # failed files: the code in the error
    names: tuple[str, ...] = ()  # words the error or the check's listing must name (sheet, column)
    check: Callable[[Warehouse, str], None] | None = None
    known_gap: str | None = None  # an outcome the product does not reach yet: strict xfail


def rows_equal(sql: str, expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        assert wh.query(sql, [source_file]) == expected

    return check


def cells_quarantined(expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    """(row_number, column_name, raw_value, reason_code) entries of the file, in order."""

    def check(wh: Warehouse, source_file: str) -> None:
        assert [(q[1], q[2], q[3], q[4]) for q in wh.quarantine(source_file)] == expected

    return check


# --- writers for the cases --------------------------------------------------------------------


def xls_with_error_cells(path: Path) -> None:
    """An .xls whose count cells hold error values (#REF!, #DIV/0!), as Excel saves them."""
    import xlwt

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("村表")
    errors = {(1, VILLAGE.index("总户数")): "#REF!", (2, VILLAGE.index("总人口")): "#DIV/0!"}
    for r, row in enumerate(table(VILLAGE, [village(0), village(1)])):
        for c, value in enumerate(row):
            if (r, c) in errors:
                sheet.row(r).set_cell_error(c, errors[(r, c)])
            else:
                sheet.write(r, c, value)
    book.save(str(path))


def ods_with_error_cells(path: Path) -> None:
    """An .ods as LibreOffice writes a formula whose result is an error (#DIV/0!)."""
    from odf.namespaces import TABLENS
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    path.parent.mkdir(parents=True, exist_ok=True)
    document = OpenDocumentSpreadsheet()
    sheet = Table(name="村表")
    for r, row in enumerate(table(VILLAGE, [village(0)])):
        table_row = TableRow()
        for c, value in enumerate(row):
            if r == 1 and VILLAGE[c] == "贫困户数":
                cell = TableCell(valuetype="string", stringvalue="")
                cell.setAttrNS(TABLENS, "formula", "of:=[.E2]/0")
                cell.addElement(P(text="#DIV/0!"))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            table_row.addElement(cell)
        sheet.addElement(table_row)
    document.spreadsheet.addElement(sheet)
    document.save(str(path))


def truncated(writer: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        writer(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    return build


def garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * 40)


def xlsx_named_csv(path: Path) -> None:
    buffer = path.with_suffix(".tmp.xlsx")
    write_xlsx(buffer, {"名册": table(INSTITUTION, [institution(0), institution(1)])})
    buffer.rename(path)


def linked_folder(path: Path) -> None:
    """A folder inside raw/ that is a link to a folder outside it, holding a good file."""
    outside = path.parent.parent.parent / "outside-folder"
    write_xlsx(outside / "elsewhere.xlsx", {"S": households(2)})
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, path, target_is_directory=True)


def linked_folder_inside(path: Path) -> None:
    """A folder inside raw/ that links to another folder inside raw/ holding one good file."""
    target = path.parent.parent / "link-target"
    write_xlsx(target / "linked.xlsx", {"村表": table(VILLAGE, [village(30)])})
    os.symlink(target, path.parent, target_is_directory=True)


FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"


def fixture(name: str) -> Callable[[Path], None]:
    """Copy a workbook LibreOffice wrote (tests/fixtures/libreoffice/README.md)."""

    def build(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / name, path)

    return build


def openpyxl_book(
    path: Path,
    sheets: dict[str, list[list]],
    states: dict[str, str] | None = None,
    hidden_rows: dict[str, list[int]] | None = None,
) -> None:
    """An .xlsx by openpyxl: sheet states (hidden / veryHidden), hidden rows under an autofilter."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = (states or {}).get(name, "visible")
        for number in (hidden_rows or {}).get(name, []):
            sheet.row_dimensions[number].hidden = True
        if name in (hidden_rows or {}):
            sheet.auto_filter.ref = sheet.dimensions
    book.save(path)


def hide_ods_sheets(path: Path, sheets: dict[str, list[list]], hidden: list[str]) -> None:
    """An .ods whose sheets ``hidden`` have display="false" in their table style, as LibreOffice
    writes a hidden sheet."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    path.parent.mkdir(parents=True, exist_ok=True)
    document = OpenDocumentSpreadsheet()
    style = Style(name="hiddentable", family="table")
    style.addElement(TableProperties(display="false"))
    document.automaticstyles.addElement(style)
    for name, rows in sheets.items():
        sheet = Table(name=name, stylename=style if name in hidden else None)
        for row in rows:
            table_row = TableRow()
            for value in row:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text="" if value is None else str(value)))
                table_row.addElement(cell)
            sheet.addElement(table_row)
        document.spreadsheet.addElement(sheet)
    document.save(str(path))


def hidden_sheet_entry(sheet: str, rows: int) -> Callable[[Warehouse, str], None]:
    """The file's one hidden_sheet entry for ``sheet``: its non-blank row count and the sentence."""

    def check(wh: Warehouse, source_file: str) -> None:
        entries = wh.query(
            "select row_number, column_name, raw_value, reason from audit.quarantine "
            "where source_file = ? and sheet = ? and reason_code = 'hidden_sheet'",
            [source_file, sheet],
        )
        assert len(entries) == 1, entries
        assert entries[0][:3] == (None, None, str(rows)), entries
        assert f"工作表“{sheet}”是隐藏的工作表（{rows} 行），未导入" in entries[0][3], entries

    return check


TOTAL_PROGRESS = ["合计", "2015-09", "150", "47", "30", "12"]

CASES = [
    # --- household sheets ----------------------------------------------------------------------
    Case(
        "合计 row between members (xls)",
        HH,
        "total-row.xls",
        lambda p: write_xls(
            p, {"S": households(2) + [["合计", None, None, None, "2户", None, "3人"]] + households(3)[3:]}
        ),
        "loaded",
        rows_read=4,
        rows_loaded=3,
        check=rows_equal(
            "select row_number from raw.household_members where source_file = ? order by 1",
            [(2,), (3,), (5,)],
        ),
    ),
    Case(
        "ID in full-width digits",
        HH,
        "fullwidth-id.xlsx",
        lambda p: write_xlsx(p, {"S": households(1, 身份证号码="６２２９２２１９９００１０１０００Ｘ")}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select id_number from raw.household_members where source_file = ?", [("62292219900101000X",)]
        ),
    ),
    Case(
        "ID with lower-case x (ods)",
        HH,
        "lower-x.ods",
        lambda p: write_ods(p, {"户表": households(1, 身份证号码="62292219900101000x")}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select id_number from raw.household_members where source_file = ?", [("62292219900101000X",)]
        ),
    ),
    Case(
        "18-digit ID typed as a number (ods)",
        HH,
        "number-id.ods",
        lambda p: write_ods(p, {"户表": households(1, 身份证号码=622922199001010000)}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"id_number_typed_as_number"},
        check=rows_equal(
            "select id_number from raw.household_members where source_file = ?", [("6.2292219900101E+17",)]
        ),
    ),
    Case(
        "ID already rounded by Excel, saved as text in csv",
        HH,
        "rounded-text.csv",
        lambda p: write_csv(p, households(1, 身份证号码="6.22922E+17"), "gb18030"),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"id_number_rounded"},
    ),
    Case(
        "15-digit old ID as text",
        HH,
        "old-id-text.xlsx",
        lambda p: write_xlsx(p, {"S": households(1, 身份证号码="622922900101001")}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select id_number from raw.household_members where source_file = ?", [("622922900101001",)]
        ),
    ),
    Case(
        "header in row 7 of an ods",
        HH,
        "row7.ods",
        lambda p: write_ods(
            p, {"户表": [["户级采集表"], [], ["填报单位：城关镇"], [], [], ["单位：人"], *households(2)]}
        ),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        check=rows_equal(
            "select row_number from raw.household_members where source_file = ? order by 1", [(8,), (9,)]
        ),
    ),
    Case(
        "merged village cell down three members (xlsx)",
        HH,
        "merged.xlsx",
        lambda p: write_xlsx(
            p,
            {"S": table(HOUSEHOLD_HEADERS, [household_row(i, 行政村=None) for i in range(3)])},
            {"S": [(1, 3, 3, 3)]},
        ),
        "loaded",
        rows_read=3,
        rows_loaded=3,
        # the merged range's text is the anchor's (None → ""): every row gets the same village
        check=rows_equal(
            "select count(distinct coalesce(village, '?')) from raw.household_members where source_file = ?",
            [(1,)],
        ),
    ),
    Case(
        "GB18030 csv with a name beyond GBK (𠮷)",
        HH,
        "gb18030-rare.csv",
        lambda p: write_csv(p, households(1, 姓名="马𠮷祥"), "gb18030"),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select member_name from raw.household_members where source_file = ?", [("马𠮷祥",)]
        ),
    ),
    Case(
        "file name holding SQL",
        HH,
        "户表'; drop table raw.household_members; --.csv",
        lambda p: write_csv(p, households(2)),
        "loaded",
        rows_read=2,
        rows_loaded=2,
    ),
    Case(
        "file name with a line break",
        HH,
        "两行\n名字.csv",
        lambda p: write_csv(p, households(1)),
        "loaded",
        rows_read=1,
        rows_loaded=1,
    ),
    Case(
        "file name of dots and dashes",
        HH,
        "-..-..-etc-passwd .xlsx",
        lambda p: write_xlsx(p, {"S": households(1)}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
    ),
    Case(
        "file in sub-folders named with spaces and Chinese",
        HH,
        "2015年 康乐县/城关镇 第二批/户表 最终.xlsx",
        lambda p: write_xlsx(p, {"S": households(2)}),
        "loaded",
        rows_read=2,
        rows_loaded=2,
    ),
    Case(
        "same file again in another sub-folder",
        HH,
        "备份/户表 最终.xlsx",
        lambda p: (
            p.parent.mkdir(parents=True),
            shutil.copyfile(p.parent.parent / "2015年 康乐县/城关镇 第二批/户表 最终.xlsx", p),
        ),
        "duplicate",
    ),
    Case(
        "sheet name with SQL quotes (ods)",
        HH,
        "quotes.ods",
        lambda p: write_ods(p, {"户'表\"; drop table x--": households(1)}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select sheet from raw.household_members where source_file = ?", [("户'表\"; drop table x--",)]
        ),
    ),
    Case(
        "truncated ods",
        HH,
        "truncated.ods",
        truncated(lambda p: write_ods(p, {"S": households(3)})),
        "failed",
        error_code="corrupt_zip",
    ),
    Case(
        "truncated xls",
        HH,
        "truncated.xls",
        truncated(lambda p: write_xls(p, {"S": households(30)})),
        "failed",
        error_code="unreadable",
    ),
    Case("binary garbage named csv", HH, "garbage.csv", garbage, "failed", error_code="not_a_workbook"),
    Case(
        "csv that is really an xlsx",
        INS,
        "really-xlsx.csv",
        xlsx_named_csv,
        "loaded",
        rows_read=2,
        rows_loaded=2,
    ),
    # --- village sheets ------------------------------------------------------------------------
    Case(
        "formula errors in an xls",
        VIL,
        "errors.xls",
        xls_with_error_cells,
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"formula_error"},
        # python-calamine 0.9.1 reads an .xls error cell as "" (dimastbk/python-calamine#105):
        # sheets.xls_error_cells finds the BOOLERR / FORMULA records holding the error
        check=cells_quarantined(
            [
                (2, "total_households", "#REF!", "formula_error"),
                (3, "total_population", "#DIV/0!", "formula_error"),
            ]
        ),
    ),
    Case(
        "formula error in an ods",
        VIL,
        "errors.ods",
        ods_with_error_cells,
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"formula_error"},
        # calamine reads an .ods error cell as "" (tafia/calamine#720): sheets.ods_error_cells
        check=cells_quarantined([(2, "poor_households", "#DIV/0!", "formula_error")]),
    ),
    Case(
        "formula errors in an xls saved by LibreOffice",
        VIL,
        "lo/formula-error.xls",
        fixture("formula-error.xls"),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"formula_error"},
        check=cells_quarantined(
            [
                (2, "total_households", "#DIV/0!", "formula_error"),
                (3, "total_population", "#N/A", "formula_error"),
            ]
        ),
    ),
    Case(
        "formula errors in an ods saved by LibreOffice",
        VIL,
        "lo/formula-error.ods",
        fixture("formula-error.ods"),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"formula_error"},
        check=cells_quarantined(
            [
                (2, "total_households", "#DIV/0!", "formula_error"),
                (3, "total_population", "#N/A", "formula_error"),
            ]
        ),
    ),
    Case(
        "hidden sheet in an xls saved by LibreOffice",
        VIL,
        "lo/hidden-sheet.xls",
        fixture("hidden-sheet.xls"),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"hidden_sheet"},
        check=hidden_sheet_entry("旧版(勿用)", 4),
    ),
    Case(
        "hidden sheet in an ods saved by LibreOffice",
        VIL,
        "lo/hidden-sheet.ods",
        fixture("hidden-sheet.ods"),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"hidden_sheet"},
        check=hidden_sheet_entry("旧版(勿用)", 4),
    ),
    Case(
        "hidden and very hidden sheets with headers (xlsx)",
        VIL,
        "hidden-sheets.xlsx",
        lambda p: openpyxl_book(
            p,
            {
                "村表": table(VILLAGE, [village(0), village(1)]),
                "旧版(勿用)": table(VILLAGE, [village(i) for i in range(10, 13)]),
                "底稿": table(VILLAGE, [village(20)]),
            },
            states={"旧版(勿用)": "hidden", "底稿": "veryHidden"},
        ),
        "loaded",
        rows_read=2,
        rows_loaded=2,
        codes={"hidden_sheet"},
        check=lambda wh, f: (
            hidden_sheet_entry("旧版(勿用)", 4)(wh, f),
            hidden_sheet_entry("底稿", 2)(wh, f),
            rows_equal(
                "select distinct sheet from raw.village_statistics where source_file = ?", [("村表",)]
            )(wh, f),
        ),
    ),
    Case(
        "only a hidden sheet (ods)",
        VIL,
        "only-hidden.ods",
        lambda p: hide_ods_sheets(p, {"旧版(勿用)": table(VILLAGE, [village(0)])}, ["旧版(勿用)"]),
        "failed",
        error_code="no_loadable_sheet",
        names=("旧版(勿用)", "hidden_sheet"),
    ),
    Case(
        "hidden rows and an autofilter inside a visible sheet are data (xlsx)",
        VIL,
        "hidden-rows.xlsx",
        lambda p: openpyxl_book(
            p, {"村表": table(VILLAGE, [village(i) for i in range(4)])}, hidden_rows={"村表": [3, 4]}
        ),
        "loaded",
        rows_read=4,
        rows_loaded=4,
    ),
    Case(
        "text in count columns (ods)",
        VIL,
        "text-counts.ods",
        lambda p: write_ods(p, {"村表": table(VILLAGE, [village(0, 总户数="约120", 总人口="四百八十")])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"not_a_number"},
        check=cells_quarantined(
            [
                (2, "total_households", "约120", "not_a_number"),
                (2, "total_population", "四百八十", "not_a_number"),
            ]
        ),
    ),
    Case(
        "negative count typed as a number (ods)",
        VIL,
        "negative.ods",
        lambda p: write_ods(p, {"村表": table(VILLAGE, [village(0, 贫困户数=-4.0)])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"negative_number"},
        check=rows_equal(
            "select poor_households from raw.village_statistics where source_file = ?", [(None,)]
        ),
    ),
    Case(
        "header only (csv)",
        VIL,
        "header-only.csv",
        lambda p: write_csv(p, [VILLAGE]),
        "loaded",
        codes={"header_only_sheet"},
    ),
    Case(
        "missing required column 行政村 (xls)",
        VIL,
        "no-village.xls",
        lambda p: write_xls(p, {"村表": table([h for h in VILLAGE if h != "行政村"], [village(0)])}),
        "failed",
        error_code="missing_required_column",
        names=("村表", "行政村"),
    ),
    Case(
        "empty ods",
        VIL,
        "empty.ods",
        lambda p: write_ods(p, {"Sheet1": []}),
        "failed",
        error_code="empty_workbook",
    ),
    Case(
        "link to a folder outside raw",
        VIL,
        "linked/elsewhere.xlsx",
        lambda p: linked_folder(p.parent),
        "failed",
        error_code="outside_raw_dir",
    ),
    Case(
        "link to a folder inside raw (its files load, a copy is a duplicate)",
        VIL,
        "inside-link/linked.xlsx",
        linked_folder_inside,
        "loaded",
        rows_read=1,
        rows_loaded=1,
    ),
    # --- institution rosters -------------------------------------------------------------------
    Case(
        "missing required column 机构名称",
        INS,
        "no-name.csv",
        lambda p: write_csv(p, table([h for h in INSTITUTION if h != "机构名称"], [institution(0)])),
        "failed",
        error_code="missing_required_column",
        names=("机构名称",),
    ),
    Case(
        "duplicated column with the same values",
        INS,
        "dup-same.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "S": [
                    [*INSTITUTION, "机构名称"],
                    *[[*r, r[1]] for r in table(INSTITUTION, [institution(0)])[1:]],
                ]
            },
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"duplicate_column"},
    ),
    Case(
        "qualification dates before 1900 and after 2099",
        INS,
        "dates.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "S": table(
                    INSTITUTION,
                    [
                        institution(0, 资质有效期至="1899-12-31"),
                        institution(1, 资质有效期至="2100-01-01"),
                        institution(2, 资质有效期至=dt.date(2030, 12, 31)),
                    ],
                )
            },
        ),
        "loaded",
        rows_read=3,
        rows_loaded=3,
        codes={"date_out_of_range"},
        check=rows_equal(
            "select qualification_valid_until from raw.institutions where source_file = ? "
            "order by row_number",
            [(None,), (None,), ("2030-12-31",)],
        ),
    ),
    Case(
        "credit code typed as a number",
        INS,
        "code-number.xlsx",
        lambda p: write_xlsx(p, {"S": table(INSTITUTION, [institution(0, 机构代码=126229221234567890)])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"code_rounded_by_excel"},
    ),
    # --- training ledgers ----------------------------------------------------------------------
    Case(
        "numbers as text and text as numbers (xls)",
        TRN,
        "types.xls",
        lambda p: write_xls(
            p, {"台账": table(TRAINING, [training(0, 姓名=123, 培训天数="20", 补贴金额="1200.00")])}
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal(
            "select trainee_name, duration_days from raw.training_records where source_file = ?",
            [("123", "20")],
        ),
    ),
    Case(
        "member row without name, ID or programme (xls)",
        TRN,
        "no-keys.xls",
        lambda p: write_xls(
            p, {"台账": table(TRAINING, [training(0), {"培训天数": 5, "补贴金额(元)": 1200}])}
        ),
        "loaded",
        rows_read=2,
        rows_loaded=1,
        codes={"row_without_key_fields"},
    ),
    Case(
        "unknown column (ods)",
        TRN,
        "unknown.ods",
        lambda p: write_ods(p, {"台账": table([*TRAINING, "家庭住址"], [training(0, 家庭住址="胭脂村3社")])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"unknown_column"},
        names=("家庭住址",),
    ),
    Case(
        "course dated 1899 and 2031 (csv)",
        TRN,
        "dates.csv",
        lambda p: write_csv(
            p, table(TRAINING, [training(0, 开班日期="1899年6月1日", 结业日期="2031.06.20")])
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"date_out_of_range"},
        check=rows_equal(
            "select start_date, end_date from raw.training_records where source_file = ?",
            [(None, "2031-06-20")],
        ),
    ),
    # --- war maps ------------------------------------------------------------------------------
    Case(
        "negative planned counts",
        WAR,
        "negative.csv",
        lambda p: write_csv(p, table(WAR_MAP, [war(0, 就业技能培训=-10, 培训对象人数="-3人")])),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"negative_number"},
    ),
    Case(
        "missing required column 培训对象人数 (ods)",
        WAR,
        "no-target.ods",
        lambda p: write_ods(p, {"作战图": table([h for h in WAR_MAP if h != "培训对象人数"], [war(0)])}),
        "failed",
        error_code="missing_required_column",
        names=("作战图", "培训对象人数"),
    ),
    # --- progress reports ----------------------------------------------------------------------
    Case(
        "合计 row in the middle of a progress report",
        PRG,
        "total-middle.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "S": [
                    PROGRESS_HEADER,
                    PROGRESS_SUB,
                    ["康乐县", "2015-09", 100, 30, 20, 8],
                    TOTAL_PROGRESS,
                    ["临夏市", "2015-09", 50, 17, 10, 4],
                ]
            },
            {"S": [(0, 3, 0, 4)]},
        ),
        "loaded",
        rows_read=3,
        rows_loaded=2,
        check=rows_equal(
            "select county from raw.progress_reports where source_file = ? order by row_number",
            [("康乐县",), ("临夏市",)],
        ),
    ),
    Case(
        "unknown column beside a two-row header",
        PRG,
        "unknown.csv",
        lambda p: write_csv(
            p,
            [[*PROGRESS_HEADER, "审核人"], [*PROGRESS_SUB, None], ["康乐县", "2015-09", 1, 2, 3, 4, "马明"]],
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"unknown_column"},
        names=("审核人",),
    ),
    Case(
        "备注 beside a two-row header is loaded as notes",
        PRG,
        "remarks.csv",
        lambda p: write_csv(
            p, [[*PROGRESS_HEADER, "备注"], [*PROGRESS_SUB, None], ["康乐县", "2015-09", 1, 2, 3, 4, "已核"]]
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal("select notes from raw.progress_reports where source_file = ?", [("已核",)]),
    ),
    Case(
        "备 注 (spaced) in a ledger is loaded as notes",
        TRN,
        "remarks.xlsx",
        lambda p: write_xlsx(p, {"台账": table([*TRAINING, "备 注"], [training(0, **{"备 注": "补录"})])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal("select notes from raw.training_records where source_file = ?", [("补录",)]),
    ),
    Case(
        "说明 column in a roster",
        INS,
        "remarks.ods",
        lambda p: write_ods(p, {"名册": table([*INSTITUTION, "说明"], [institution(0, 说明="新增机构")])}),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        check=rows_equal("select notes from raw.institutions where source_file = ?", [("新增机构",)]),
    ),
    Case(
        "missing required column 统计月份",
        PRG,
        "no-month.xlsx",
        lambda p: write_xlsx(p, {"进度": [["县区", "培训对象人数", "取得证书人数"], ["康乐县", 100, 20]]}),
        "failed",
        error_code="missing_required_column",
        names=("进度", "统计月份"),
    ),
    # --- task allocations ----------------------------------------------------------------------
    Case(
        "negative task and full-width counts",
        TSK,
        "tasks.xlsx",
        lambda p: write_xlsx(
            p, {"S": [TASKS, ["2015年度", "临夏回族自治州", "康乐县", "４７", -45, "15人次"]]}
        ),
        "loaded",
        rows_read=1,
        rows_loaded=1,
        codes={"negative_number"},
        check=rows_equal(
            "select year, task_employ, task_two_after, task_brand from raw.task_allocations "
            "where source_file = ?",
            [("2015", "47", None, "15")],
        ),
    ),
    Case(
        "missing required column 年度 (ods)",
        TSK,
        "no-year.ods",
        lambda p: write_ods(p, {"任务": [TASKS[1:], ["临夏回族自治州", "康乐县", 47, 45, 15]]}),
        "failed",
        error_code="missing_required_column",
        names=("任务", "年度"),
    ),
    Case(
        "GB18030 csv with title rows and a 合计 row at the end",
        TSK,
        "tasks-gb.csv",
        lambda p: write_csv(
            p,
            [
                ["附件2"],
                ["2015年精准扶贫劳动力培训任务分解表"],
                TASKS,
                ["2015", "临夏回族自治州", "康乐县", "47", "45", "15"],
                ["2015", "临夏回族自治州", "临夏市", "47", "46", "15"],
                ["合计", None, None, "94", "91", "30"],
            ],
            "gb18030",
        ),
        "loaded",
        rows_read=3,
        rows_loaded=2,
    ),
]


def source_file_of(case: Case) -> str:
    return f"{case.folder}/{case.filename}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("reliability_corpus"))
    for case in CASES:
        case.build(wh.file(case.folder, case.filename))
    # a good file in every source folder, beside the bad ones
    write_xlsx(wh.file(HH, "good.xlsx"), {"S": households(5)})
    write_csv(wh.file(VIL, "good.csv"), table(VILLAGE, [village(i) for i in range(3)]))
    write_csv(wh.file(INS, "good.csv"), table(INSTITUTION, [institution(i) for i in range(2)]))
    write_csv(wh.file(TRN, "good.csv"), table(TRAINING, [training(i) for i in range(4)]))
    write_xlsx(wh.file(WAR, "good.xlsx"), {"S": table(WAR_MAP, [war(i) for i in range(3)])})
    write_csv(
        wh.file(PRG, "good.csv"), [PROGRESS_HEADER, PROGRESS_SUB, ["康乐县", "2015-10", 150, 47, 40, 12]]
    )
    write_csv(wh.file(TSK, "good.csv"), [TASKS, ["2016", "临夏回族自治州", "康乐县", "50", "40", "10"]])
    wh.ingest(workers=2)  # one run, through the process pool
    return wh


GOOD_ROWS = {HH: 5, VIL: 3, INS: 2, TRN: 4, WAR: 3, PRG: 1, TSK: 1}


def _params() -> list:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(reason=case.known_gap, strict=True)] if case.known_gap else [],
        )
        for case in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_case_outcome(corpus: Warehouse, case: Case):
    source_file = source_file_of(case)
    states = corpus.query("select status from audit.file_state where source_file = ?", [source_file])
    assert states, f"{source_file!r} has no audit record at all"
    state = corpus.state(source_file)
    assert state["status"] == case.status, state
    assert (state["rows_read"], state["rows_loaded"]) == (case.rows_read, case.rows_loaded), state
    table_name = next(s.table for s in SOURCES.values() if s.folder == case.folder)
    in_table = corpus.one(f"select count(*) from raw.{table_name} where source_file = ?", [source_file])
    assert in_table == case.rows_loaded  # what the audit says is what the table holds
    if case.status == "failed":
        assert f"[{case.error_code}]" in state["error"], state["error"]
    else:
        assert corpus.codes(source_file) == case.codes
    if case.names:
        # the problem is named where an official looks: the failed file's error or the quarantine
        said = (state["error"] or "") + " ".join(
            f"{q[0]} {q[2]} {q[3]}" for q in corpus.quarantine(source_file)
        )
        for word in case.names:
            assert word in said, (word, said)
    if case.check:
        case.check(corpus, source_file)


def test_corpus_has_thirty_cases_or_more_over_all_seven_sources():
    assert len(CASES) >= 30
    assert {c.folder for c in CASES} == {s.folder for s in SOURCES.values()}
    assert len({source_file_of(c) for c in CASES}) == len(CASES)


def test_good_files_load_beside_the_bad_ones(corpus: Warehouse):
    for folder, rows in GOOD_ROWS.items():
        name = "good.xlsx" if folder in (HH, WAR) else "good.csv"
        assert corpus.state(f"{folder}/{name}")["rows_loaded"] == rows, folder


def test_every_file_on_disk_has_an_audit_record(corpus: Warehouse):
    """Nothing is lost without a record: each file under raw/ (links followed, as a user sees
    the folder) has exactly one current state."""
    on_disk = {
        Path(dirpath, name).relative_to(corpus.raw).as_posix()
        for dirpath, _, names in os.walk(corpus.raw, followlinks=True)
        for name in names
    }
    audited = {f for (f,) in corpus.query("select source_file from audit.file_state")}
    missing = sorted(on_disk - audited)
    gaps = {source_file_of(c) for c in CASES if c.known_gap and c.status == "failed"}
    assert set(missing) <= gaps, f"files with no audit record: {missing}"
    if missing:  # the known gap, reported rather than hidden
        pytest.xfail(f"known gap, files with no audit record: {missing}")


def test_row_accounting_holds_for_every_file_and_every_row_left_out_is_recorded(corpus: Warehouse):
    assert_row_accounting(corpus.path)


def test_failed_files_and_refused_sheets_are_listed_by_the_ingest_checks(corpus: Warehouse):
    """The Dagster check of each source names every failed file (and the sheet and column of a
    refused sheet): the run shows the problem instead of crashing."""
    listed = {}
    with duckdb.connect(str(corpus.path), read_only=True) as con:
        for name in SOURCES:
            result = ingest_check_result(con, name)
            listed[SOURCES[name].folder] = result.metadata["problem_list"].value
    for case in CASES:
        if case.status != "failed" or case.known_gap:
            continue
        problems = [p for p in listed[case.folder] if p["file"] == source_file_of(case)]
        assert problems, f"{source_file_of(case)} is not listed by the ingest check"
        text = json.dumps(problems, ensure_ascii=False)
        for word in case.names:
            assert word in text, (word, text)


# --- a 300,000-row workbook -------------------------------------------------------------------

ROWS_300K = 300_000

# Ingest a raw folder holding one big .xlsx in a fresh interpreter (a single file is parsed in
# the run's own process) and print the peak resident memory (MiB, VmHWM: not ru_maxrss, which
# a forked child inherits from pytest).
PROBE_300K = """
import sys
from pathlib import Path
from orchestration.lib.ingest.pipeline import ingest_raw

report = ingest_raw(Path(sys.argv[1]), Path(sys.argv[2]), ["household_members"], workers=2)
(outcome,) = report.outcomes
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print("RESULT", outcome.status, outcome.rows_read, outcome.rows_loaded, int(status[0]) // 1024)
"""


@pytest.mark.slow
def test_300k_row_xlsx_loads_whole_with_bounded_memory(tmp_path):
    """The .xlsx twin of test_ingest_scale's csv, through ingest_raw (one file: parsed in its process)."""
    import xlsxwriter

    raw = tmp_path / "raw"
    path = raw / HH / "全县户级采集表 300000行.xlsx"
    path.parent.mkdir(parents=True)
    # the required columns and a date: 2.4 M cells, written in ~15 s
    headers = ["县区", "乡镇", "行政村", "户编号", "姓名", "身份证号码", "性别", "采集日期"]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("户表")
    sheet.write_row(0, 0, headers)
    template = household_row(0)
    for i in range(ROWS_300K):
        row = template | {
            "户编号": f"6229220{i // 4:06d}",
            "姓名": f"马{i}",
            "身份证号码": f"6229221990{i:08d}",
        }
        sheet.write_row(i + 1, 0, [row[h] for h in headers])
    book.close()
    command = [sys.executable, "-c", PROBE_300K, str(raw), str(tmp_path / "wh.duckdb")]
    probe = subprocess.run(command, capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr[-3000:]
    result = next(line for line in probe.stdout.splitlines() if line.startswith("RESULT "))
    status, read, loaded, peak_mib = result.split()[1:]
    assert (status, int(read), int(loaded)) == ("loaded", ROWS_300K, ROWS_300K)
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute(
            "select count(*), count(distinct row_number) from raw.household_members"
        ).fetchone() == (
            ROWS_300K,
            ROWS_300K,
        )
    # ~390 MiB measured: the interpreter with DuckDB (~130 MiB) and calamine's copy of the
    # sheet's 2.4 M cells, while rows go to DuckDB in chunks. An .xlsx sheet costs ~100 bytes a
    # cell (calamine reads a sheet whole); a csv costs the same whatever its length.
    assert int(peak_mib) < 600, peak_mib
