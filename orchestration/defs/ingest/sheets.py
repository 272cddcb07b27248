"""Sheets as streams of rows, whatever the file format.

Every reader yields ``RawSheet``s whose ``rows`` iterator starts at spreadsheet row 1, so the
row's index + 1 is the row number Excel or LibreOffice shows (python-calamine's ``iter_rows``
does exactly this, padding the rows above the first used row with empty rows). Columns start
at the sheet's first used column.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from orchestration.defs.ingest.file_types import FileKind

Merge = tuple[tuple[int, int], tuple[int, int]]

# csv fields can be long (free-text remarks); the stdlib default of 128 KiB is too small.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class RawSheet:
    name: str
    rows: Iterator[list]  # row i is spreadsheet row i + 1
    merges: list[Merge] | None  # merged ranges, columns relative to the first used column
    error_cells: dict[int, dict[int, str]] = field(default_factory=dict)  # row → column → '#REF!'
    hidden: bool = False
    first_column: int = 0  # 0-based absolute index of the first used column (for messages)
    ragged: bool = False  # rows may differ in length (csv)


def open_sheets(path: Path, kind: FileKind) -> Iterator[RawSheet]:
    if kind.kind == "csv":
        yield csv_sheet(path, kind.encoding or "utf-8-sig")
    else:
        yield from workbook_sheets(path, kind)


def workbook_sheets(path: Path, kind: FileKind) -> Iterator[RawSheet]:
    errors = xlsx_error_cells(path) if kind.kind == "xlsx" else {}
    if kind.extension_matches:
        workbook = CalamineWorkbook.from_path(str(path))
    else:  # calamine picks the reader by extension; from a file object it sniffs the content
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            start = sheet.start
            hidden = meta.visible != SheetVisibleEnum.Visible
            if start is None:  # an empty sheet: iter_rows would fail on it
                yield RawSheet(meta.name, iter(()), None, hidden=hidden)
                continue
            first_col = start[1]
            merges = sheet.merged_cell_ranges
            if merges is not None:
                merges = [((r0, c0 - first_col), (r1, c1 - first_col)) for (r0, c0), (r1, c1) in merges]
            sheet_errors = {
                row: {col - first_col: text for col, text in cols.items() if col >= first_col}
                for row, cols in errors.get(meta.name, {}).items()
            }
            yield RawSheet(meta.name, iter(sheet.iter_rows()), merges, sheet_errors, hidden, first_col)
            del sheet


def csv_sheet(path: Path, encoding: str) -> RawSheet:
    def rows() -> Iterator[list]:
        with path.open(encoding=encoding, newline="") as f:
            sample = f.read(64 * 1024)
            f.seek(0)
            yield from csv.reader(f, delimiter=_delimiter(sample))

    return RawSheet("", rows(), None, ragged=True)


def _delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


# --- formula errors in xlsx -------------------------------------------------------------------
# python-calamine reads a cell holding a formula error (#REF!, #DIV/0!) as empty. To record
# such cells instead of losing them silently, the sheet XML is scanned for cells of type "e".

_ERROR_CELL = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>(.*?)</c>', re.S)
_ERROR_CELL_REV = re.compile(rb'<c\s[^>]*?\bt="e"[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx_error_cells(path: Path) -> dict[str, dict[int, dict[int, str]]]:
    """sheet name → 0-based row → 0-based absolute column → error text, for cells of type "e"."""
    found: dict[str, dict[int, dict[int, str]]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name, part in _sheet_parts(zf).items():
                cells = _scan_part(zf, part)
                if cells:
                    found[name] = cells
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return {}  # calamine reports the broken file itself
    return found


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    workbook = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("rel:Relationship", _NS)}
    parts = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        if target:
            parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _scan_part(zf: zipfile.ZipFile, part: str, block: int = 1 << 20) -> dict[int, dict[int, str]]:
    cells: dict[int, dict[int, str]] = {}
    carry = b""
    marker = b't="e"'
    with zf.open(part) as f:
        while data := f.read(block):
            # a cell may straddle two blocks: the end of the last one is looked at again
            if marker in data or marker in carry or marker in carry[-8:] + data[:8]:
                window = carry + data
                for pattern in (_ERROR_CELL, _ERROR_CELL_REV):
                    for m in pattern.finditer(window):
                        value = _VALUE.search(m.group(3))
                        text = value.group(1).decode("utf-8", "replace") if value else "#ERROR"
                        cells.setdefault(int(m.group(2)) - 1, {})[column_index(m.group(1).decode())] = text
            carry = data[-8192:] if len(data) >= 8192 else (carry + data)[-8192:]
    return cells
