"""Files for the bad-input corpus (tests/reliability/test_bad_inputs.py): the sheets' headers,
rows that load, writers that break a file one way each, and the checks a case can add.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ingest_cases import Warehouse, households, table, write_xlsx

HH, VIL, INS, TRN, WAR, PRG, TSK = (
    "household_sheets",
    "village_sheets",
    "institution_rosters",
    "training_ledgers",
    "war_maps",
    "progress_reports",
    "task_allocations",
)

VILLAGE = ["县区", "乡镇", "行政村", "总户数", "总人口", "贫困户数", "填报日期"]
INSTITUTION = ["机构代码", "机构名称", "机构类型", "所在县区", "核准培训工种", "年培训能力", "资质有效期至"]
TRAINING = [
    "县区",
    "乡镇",
    "行政村",
    "姓名",
    "身份证号码",
    "培训项目",
    "培训工种",
    "培训机构",
    "开班日期",
    "结业日期",
    "培训天数",
    "是否结业",
    "补贴金额(元)",
]
WAR_MAP = ["县区", "乡镇", "行政村", "贫困户数", "培训对象人数", "就业技能培训", "创业培训", "责任人"]
TASKS = ["年度", "市州", "县区", "就业技能培训", "两后生", "劳务品牌培训"]
PROGRESS_HEADER = ["县区", "统计月份", "培训对象人数", "就业技能培训", None, "取得证书人数"]
PROGRESS_SUB = [None, None, None, "任务数", "已完成", None]
TOTAL_PROGRESS = ["合计", "2015-09", "150", "47", "30", "12"]


def village(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": f"村{i}",
        "总户数": "120",
        "总人口": "480",
        "贫困户数": "40",
        "填报日期": "2015-06-03",
    }
    return row | kw


def institution(i: int = 0, **kw) -> dict:
    row = {
        "机构代码": f"12622922MB1{i:06d}X",
        "机构名称": f"康乐县职业技术学校{i}",
        "机构类型": "公办职业院校",
        "所在县区": "康乐县",
        "核准培训工种": "电焊工、厨师",
        "年培训能力": "500",
        "资质有效期至": "2017-12-31",
    }
    return row | kw


def training(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": "胭脂村",
        "姓名": f"马{i}",
        "身份证号码": f"62292219900101{i:03d}X",
        "培训项目": "就业技能培训",
        "培训工种": "电焊工",
        "培训机构": "康乐县职业技术学校",
        "开班日期": "2015-06-01",
        "结业日期": "2015-06-20",
        "培训天数": "20",
        "是否结业": "是",
        "补贴金额(元)": "1,200元",
    }
    return row | kw


def war(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": f"村{i}",
        "贫困户数": 40,
        "培训对象人数": 30,
        "就业技能培训": 10,
        "创业培训": 2,
        "责任人": "马主任",
    }
    return row | kw


@dataclass
class Case:
    """One bad file and what must become of it."""

    name: str  # test id
    folder: str
    filename: str  # may hold sub-folders
    build: Callable[[Path], None]
    status: str  # loaded | failed | duplicate
    rows_loaded: int = 0
    codes: set[str] = field(default_factory=set)  # quarantine reason codes of the file, exactly
    error_code: str | None = None  # failed files: the code in the error
    check: Callable[[Warehouse, str], None] | None = None
    rows_read: int | None = None  # rows below the header the file really has, where stated
    names: tuple[str, ...] = ()  # words the error or the check's listing must name (sheet, column)
    known_gap: str | None = None  # an outcome the product does not reach yet: strict xfail

    @property
    def source_file(self) -> str:
        return f"{self.folder}/{self.filename}"


# --- checks a case can add --------------------------------------------------------------------


def check_rows(sql: str, expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        assert wh.query(sql, [source_file]) == expected

    return check


def check_error_mentions(*words: str) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        error = wh.state(source_file)["error"]
        for word in words:
            assert word in error, (word, error)

    return check


def check_quarantine(expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        assert [(q[1], q[2], q[3], q[4]) for q in wh.quarantine(source_file)] == expected

    return check


# --- writers: one way to break a file each ----------------------------------------------------


def truncated_xlsx(path: Path) -> None:
    write_xlsx(path, {"S": households(3)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_xlsx(path: Path) -> None:
    """A zip whose sheet entry is garbage (the directory is intact)."""
    buffer = io.BytesIO()
    write_xlsx(path, {"S": households(3)})
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = b"\x00\xff garbage <row><c r=" + data[:40]
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def encrypted_xlsx(path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = path.with_suffix(".plain")
    write_xlsx(plain, {"S": table(INSTITUTION, [institution()])})
    with plain.open("rb") as f, path.open("wb") as out:
        OOXMLFile(f).encrypt("1234", out)
    plain.unlink()


def docx_named_xlsx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")


def symlink_outside(path: Path) -> None:
    outside = path.parent.parent.parent / "outside.xlsx"
    write_xlsx(outside, {"外": households(1)})
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, path)


def text(path: Path, content: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding=encoding)


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


FIXTURES = Path(__file__).resolve().parents[1] / "reliability" / "fixtures" / "libreoffice"


def fixture(name: str) -> Callable[[Path], None]:
    """Copy a workbook LibreOffice wrote (tests/reliability/fixtures/libreoffice/README.md)."""

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
