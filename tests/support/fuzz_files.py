"""Damage a raw file's cells and write it back in its own format, as an office's tool would.

.xlsx through openpyxl (the workbook is kept as it is, only the cells change); .xls and .ods
read with python-calamine and rewritten with the generator's writers (xlwt, our ODS writer),
merged ranges kept; .csv in the encoding it came in (UTF-8 with or without BOM, or GB18030).

A value a format cannot hold at all is made holdable the way the office software would: XML
formats (xlsx, ods) cannot carry control characters, and no cell holds more than 32,767
characters.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
from python_calamine import CalamineWorkbook

from orchestration.generate.layout import Grid
from orchestration.generate.writers import write_ods, write_xls

MAX_CELL_CHARS = 32_767
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class CellEdit:
    sheet: str  # '' for csv and for "the first sheet"
    row: int  # 1-based, as Excel shows it
    column: int  # 1-based
    value: object  # None, str, int, float or date

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "…"
        return f"{self.sheet or '<first>'}!R{self.row}C{self.column} = {shown}"


def fit(value: object, fmt: str) -> object:
    """The value as the format can hold it."""
    if isinstance(value, str):
        value = value[:MAX_CELL_CHARS]
        if fmt in ("xlsx", "ods"):
            value = XML_ILLEGAL.sub("", value)
    if isinstance(value, dt.date) and fmt == "xls" and value < dt.date(1900, 3, 1):
        return value.isoformat()  # xlwt cannot write a date before Excel's 1900 leap-year bug
    return value


def apply_edits(path: Path, edits: list[CellEdit]) -> None:
    fmt = path.suffix.lower().lstrip(".")
    edits = [CellEdit(e.sheet, e.row, e.column, fit(e.value, fmt)) for e in edits]
    if fmt == "xlsx":
        _edit_xlsx(path, edits)
    elif fmt in ("xls", "ods"):
        _edit_via_grids(path, fmt, edits)
    elif fmt == "csv":
        _edit_csv(path, edits)
    else:
        raise ValueError(f"no writer for {path}")


def _edit_xlsx(path: Path, edits: list[CellEdit]) -> None:
    book = openpyxl.load_workbook(path)
    for edit in edits:
        sheet = book[edit.sheet] if edit.sheet in book.sheetnames else book.worksheets[0]
        cell = sheet.cell(row=edit.row, column=edit.column)
        if not isinstance(cell, MergedCell):  # the covered part of a merge holds nothing
            cell.value = edit.value
    book.save(path)


def _plain(value: object) -> object:
    """A calamine cell as a generator Grid cell."""
    if value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)
    return value


def read_grids(path: Path) -> list[Grid]:
    with CalamineWorkbook.from_path(str(path)) as book:
        grids = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            cells = [[_plain(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            grids.append(Grid(name=name, cells=cells, merges=merges))
    return grids


def _edit_via_grids(path: Path, fmt: str, edits: list[CellEdit]) -> None:
    grids = read_grids(path)
    by_name = {g.name: g for g in grids}
    for edit in edits:
        grid = by_name.get(edit.sheet, grids[0])
        while len(grid.cells) < edit.row:
            grid.cells.append([])
        row = grid.cells[edit.row - 1]
        row.extend([None] * (edit.column - len(row)))
        row[edit.column - 1] = edit.value
    (write_xls if fmt == "xls" else write_ods)(path, grids)


def csv_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float):
        return f"{value:.15G}"
    return str(value)


def _edit_csv(path: Path, edits: list[CellEdit]) -> None:
    data = path.read_bytes()
    encoding = csv_encoding(data)
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    for edit in edits:
        while len(rows) < edit.row:
            rows.append([])
        row = rows[edit.row - 1]
        row.extend([""] * (edit.column - len(row)))
        row[edit.column - 1] = _csv_text(edit.value)
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)


def sheet_size(path: Path, sheet: str) -> tuple[int, int]:
    """(rows, columns) of a sheet ('' = the first), as Excel would show its used range."""
    if path.suffix.lower() == ".csv":
        data = path.read_bytes()
        rows = list(csv.reader(io.StringIO(data.decode(csv_encoding(data)), newline="")))
        return len(rows), max((len(r) for r in rows), default=1)
    with CalamineWorkbook.from_path(str(path)) as book:
        name = sheet if sheet in book.sheet_names else book.sheet_names[0]
        cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return len(cells), max((len(r) for r in cells), default=1)
