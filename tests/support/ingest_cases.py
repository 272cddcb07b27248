"""Build small real workbooks for the ingest tests: .xlsx, .xls, .ods and .csv.

A sheet is a list of rows; a cell is ``None`` (empty), a str (written as text, never
converted), an int/float (a number cell), a bool, a ``datetime.date`` (a date cell),
or a ``Formula`` (a formula with its cached result, e.g. an error).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.ingest.pipeline import IngestReport, ingest_raw
from orchestration.sources import SOURCES

Row = Sequence[object]
Merge = tuple[int, int, int, int]  # first row, first col, last row, last col (0-based)


@dataclass(frozen=True)
class Formula:
    formula: str
    value: object  # cached result, e.g. "#REF!" or 3


def write_xlsx(
    path: Path,
    sheets: dict[str, list[Row]],
    merges: dict[str, list[Merge]] | None = None,
    hidden: Sequence[str] = (),
) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        covered = _covered((merges or {}).get(name, []), anchors=True)
        for r0, c0, r1, c1 in (merges or {}).get(name, []):
            sheet.merge_range(r0, c0, r1, c1, _cell(rows, r0, c0) or "")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if isinstance(value, Formula):
                    sheet.write_formula(r, c, value.formula, None, value.value)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
        if name in hidden:
            sheet.hide()
    workbook.close()
    return path


def write_xls(path: Path, sheets: dict[str, list[Row]], merges: dict[str, list[Merge]] | None = None) -> Path:
    import xlwt

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        covered = _covered((merges or {}).get(name, []), anchors=True)
        for r0, c0, r1, c1 in (merges or {}).get(name, []):
            sheet.write_merge(r0, r1, c0, c1, _cell(rows, r0, c0) or "")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    workbook.save(str(path))
    return path


def write_ods(path: Path, sheets: dict[str, list[Row]], spans: dict[str, list[Merge]] | None = None) -> Path:
    """ODS; ``spans`` are horizontal merges (r, c0, r, c1) written as spanned cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    path.parent.mkdir(parents=True, exist_ok=True)
    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        span_at = {(r0, c0): c1 - c0 + 1 for (r0, c0, _, c1) in (spans or {}).get(name, [])}
        covered = _covered((spans or {}).get(name, []))
        for r, row in enumerate(rows):
            table_row = TableRow()
            for c, value in enumerate(row):
                if (r, c) in covered:
                    table_row.addElement(CoveredTableCell())
                    continue
                extra = {"numbercolumnsspanned": span_at[(r, c)]} if (r, c) in span_at else {}
                if value is None:
                    cell = TableCell(**extra)
                elif isinstance(value, bool):
                    cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower(), **extra)
                elif isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat(), **extra)
                    cell.addElement(P(text=value.isoformat()))
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value, **extra)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(valuetype="string", **extra)
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def write_csv(path: Path, rows: list[Row], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([["" if v is None else v for v in row] for row in rows])
    return path


def _covered(merges: list[Merge], anchors: bool = False) -> set[tuple[int, int]]:
    """Cells inside merged ranges; with ``anchors`` also their top-left cells."""
    cells = {(r, c) for (r0, c0, r1, c1) in merges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    return cells if anchors else cells - {(r0, c0) for (r0, c0, _, _) in merges}


def _cell(rows: list[Row], r: int, c: int) -> object:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


# --- valid rows of each source ----------------------------------------------------------------

HOUSEHOLD_HEADERS = [c.header for c in SOURCES["household_members"].columns]


def household_row(i: int = 0, **overrides: object) -> dict[str, object]:
    """A valid household member, keyed by canonical header (overrides by header too)."""
    row = {
        "市州": "临夏回族自治州",
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": "胭脂村",
        "户编号": f"62292200{i:04d}",
        "户主姓名": "马福海",
        "姓名": f"马小{i}",
        "与户主关系": "子女",
        "身份证号码": f"62292219900101{i:03d}X",
        "性别": "男",
        "民族": "回族",
        "文化程度": "初中",
        "劳动力类别": "新增劳动力",
        "从业状况": "务工",
        "技能水平": "无",
        "是否有培训需求": "是",
        "培训需求": "想学电焊",
        "意向工种": "电焊工",
        "是否持有职业资格证书": "否",
        "采集日期": "2015-06-03",
    }
    row.update(overrides)
    return row


def table(headers: list[str], rows: list[dict[str, object]]) -> list[list[object]]:
    """Header row plus data rows in the header order."""
    return [list(headers)] + [[row.get(h) for h in headers] for row in rows]


def households(n: int = 3, **overrides: object) -> list[list[object]]:
    return table(HOUSEHOLD_HEADERS, [household_row(i, **overrides) for i in range(n)])


# --- running the ingest and looking at the result ---------------------------------------------


class Warehouse:
    """A raw folder and a warehouse file under a test's tmp_path."""

    def __init__(self, root: Path):
        self.raw = root / "raw"
        self.path = root / "warehouse.duckdb"
        self.raw.mkdir(parents=True, exist_ok=True)

    def file(self, folder: str, name: str) -> Path:
        return self.raw / folder / name

    def ingest(self, sources: list[str] | None = None, workers: int = 1) -> IngestReport:
        return ingest_raw(self.raw, self.path, sources, workers=workers)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None):
        rows = self.query(sql, params)
        assert len(rows) == 1, rows
        return rows[0] if len(rows[0]) > 1 else rows[0][0]

    def state(self, source_file: str) -> dict:
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute(
                "select status, file_sha256, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
                "sheets_rejected, error, duplicate_of from audit.file_state where source_file = ?",
                [source_file],
            )
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        assert len(rows) == 1, f"{source_file}: {rows}"
        return dict(zip(names, rows[0], strict=True))

    def quarantine(self, source_file: str) -> list[tuple]:
        """(sheet, row_number, column_name, raw_value, reason_code) of one file, in order."""
        return self.query(
            "select sheet, row_number, column_name, raw_value, reason_code from audit.quarantine "
            "where source_file = ? "
            "order by sheet, row_number nulls first, column_name nulls first, reason_code",
            [source_file],
        )

    def codes(self, source_file: str) -> set[str]:
        return {q[4] for q in self.quarantine(source_file)}

    def table_checksum(self, table: str) -> tuple:
        """Row count and an order-independent hash of every column of a raw table."""
        return self.one(f"select count(*), sum(hash(t)) from raw.{table} as t")
