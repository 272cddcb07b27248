"""Sheets as streams of rows, whatever the file format.

Every reader yields ``RawSheet``s whose ``rows`` iterator starts at spreadsheet row 1, so the
row's index + 1 is the row number Excel or LibreOffice shows (python-calamine's ``iter_rows``
does exactly this, padding the rows above the first used row with empty rows). Columns start
at the sheet's first used column.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from orchestration.lib.ingest.file_types import FileKind

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


ERROR_SCANS = {"xlsx": lambda path: xlsx_error_cells(path)}  # filled below for xls and ods


def workbook_sheets(path: Path, kind: FileKind) -> Iterator[RawSheet]:
    scan = ERROR_SCANS.get(kind.kind)
    errors = scan(path) if scan else {}
    if kind.extension_matches and _utf8(str(path)):
        workbook = CalamineWorkbook.from_path(str(path))
    else:
        # calamine picks the reader by extension and opens only UTF-8 paths; from a file object
        # it sniffs the content (a name that is not UTF-8 arrives with surrogate escapes)
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


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


# --- formula errors in xls and ods ------------------------------------------------------------
# python-calamine 0.9.1 reads an .xls or .ods cell whose formula result is an error as empty
# (dimastbk/python-calamine#105, tafia/calamine#720). Both scans are cheap: they look at the
# raw bytes for an error first and parse positions only in a file that has one.

# BIFF8 error codes (FORMULA cached result, BOOLERR) and the text Excel shows.
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
# FORMULA record (0x0006): row, col, xf, then a result whose bytes 0 and 6-7 say "error" (2, FFFF)
_BIFF_FORMULA_ERROR = re.compile(
    rb"\x06\x00[\s\S]{2}([\s\S]{2})([\s\S]{2})[\s\S]{2}\x02\x00([\s\S])\x00\x00\x00\xff\xff"
)
# BOOLERR record (0x0205, always 8 bytes): row, col, xf, value, fErr = 1
_BIFF_BOOLERR = re.compile(rb"\x05\x02\x08\x00([\s\S]{2})([\s\S]{2})[\s\S]{2}([\s\S])\x01")


def xls_error_cells(path: Path) -> dict[str, dict[int, dict[int, str]]]:
    """sheet name → 0-based row → 0-based column → error text, for .xls cells holding an error."""
    import olefile  # only .xls files need it (a dependency of msoffcrypto)

    try:
        with path.open("rb") as f, olefile.OleFileIO(f) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                return {}
            data = ole.openstream(stream).read()
    except OSError:
        return {}  # calamine reports the broken file itself
    if not (_BIFF_FORMULA_ERROR.search(data) or _BIFF_BOOLERR.search(data)):
        return {}
    sheets = _biff_sheets(data)
    if not sheets:
        return {}
    starts = [offset for offset, _ in sheets]
    found: dict[str, dict[int, dict[int, str]]] = {}
    for pattern in (_BIFF_FORMULA_ERROR, _BIFF_BOOLERR):
        for m in pattern.finditer(data, starts[0]):
            code = m.group(3)[0]
            if code not in _BIFF_ERRORS:
                continue
            at = bisect.bisect_right(starts, m.start()) - 1
            row, col = int.from_bytes(m.group(1), "little"), int.from_bytes(m.group(2), "little")
            found.setdefault(sheets[at][1], {}).setdefault(row, {})[col] = _BIFF_ERRORS[code]
    return found


def _biff_sheets(data: bytes) -> list[tuple[int, str]]:
    """(stream offset of its BOF, name) of each sheet, from the BOUNDSHEET records of the
    workbook globals (walked record by record up to their EOF: a few hundred records)."""
    sheets = []
    pos = 0
    while pos + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4 : pos + 4 + size]
        if kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET8
            offset, length, flags = struct.unpack_from("<IBB", body, 0)[0], body[6], body[7]
            raw = body[8:]
            name = (
                raw[: length * 2].decode("utf-16-le", "replace")
                if flags & 1
                else raw[:length].decode("latin-1")
            )
            sheets.append((offset, name))
        elif kind == 0x000A:  # EOF of the globals
            break
        pos += 4 + size
    return sorted(sheets)


# what an error cell must contain (LibreOffice's value type, or the error text of another
# writer): three needles, each a fast memchr scan of the decompressed content.xml
_ODS_ERROR_HINTS = (b'"error"', b">#", b">Err:")
_ODS_ERROR_TEXT = re.compile(r"^(#(DIV/0!|REF!|N/A|NAME\?|VALUE!|NUM!|NULL!)|Err:\d{3})$")
_ODS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def ods_error_cells(path: Path) -> dict[str, dict[int, dict[int, str]]]:
    """sheet name → 0-based row → 0-based column → error text, for .ods formula cells whose
    result is an error (LibreOffice: calcext:value-type="error"; others: the error as text)."""
    try:
        with zipfile.ZipFile(path) as zf:
            if not _part_has(zf, "content.xml", _ODS_ERROR_HINTS):
                return {}
            with zf.open("content.xml") as f:
                return _ods_scan(f)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return {}  # calamine reports the broken file itself


def _part_has(zf: zipfile.ZipFile, part: str, needles: tuple[bytes, ...], block: int = 1 << 20) -> bool:
    carry = b""
    with zf.open(part) as f:
        while data := f.read(block):
            window = carry + data
            if any(n in window for n in needles):
                return True
            carry = data[-64:]
    return False


def _ods_scan(f) -> dict[str, dict[int, dict[int, str]]]:
    table, office, calcext = (f"{{{_ODS[k]}}}" for k in ("table", "office", "calcext"))
    found: dict[str, dict[int, dict[int, str]]] = {}
    sheet, row, col = "", -1, 0
    for event, element in ET.iterparse(f, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{table}table":
                sheet, row = element.get(f"{table}name", ""), -1
            elif tag == f"{table}table-row":
                row, col = row + 1, 0
            continue
        if tag in (f"{table}table-cell", f"{table}covered-table-cell"):
            repeat = int(element.get(f"{table}number-columns-repeated", "1"))
            if element.get(f"{table}formula") is not None:
                text = "".join(element.itertext()).strip()
                typ = element.get(f"{calcext}value-type") or element.get(f"{office}value-type")
                if typ == "error" or _ODS_ERROR_TEXT.match(text):
                    found.setdefault(sheet, {}).setdefault(row, {})[col] = text or "#ERROR"
            col += repeat
            element.clear()
        elif tag == f"{table}table-row":
            row += int(element.get(f"{table}number-rows-repeated", "1")) - 1
            element.clear()
    return found


ERROR_SCANS["ole"] = xls_error_cells  # xls and WPS et
ERROR_SCANS["ods"] = ods_error_cells
