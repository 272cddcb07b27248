"""A Report as an .xlsx workbook (xlsxwriter): titled tables, sized columns, a native chart.

Column widths are measured in display width: a Chinese character takes two units, so headers
and place names are not cut off when an official opens the file in Excel, WPS or LibreOffice.
The body font is 宋体 (SimSun), present wherever Chinese Office or WPS is.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from orchestration.lib.reports.content import CHANGE, COUNT, RATE, Report, Sheet, Table

FONT = "宋体"
MAX_WIDTH = 60
TITLE_ROWS = 1
ROW_HEIGHT = 15  # points, one line of 11-point text
CHART_ROWS = 18  # rows a 320-pixel chart covers


def display_width(value: object) -> float:
    return _text_width("" if value is None else str(value))


@functools.lru_cache(maxsize=2**16)
def _text_width(text: str) -> float:
    # cached: the same names, files and details recur in every month's reports of a city
    return sum(2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.1 for ch in text)


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.note = add({"italic": True, "font_color": "#555555", "text_wrap": False})
        self.table_title = add({"bold": True, "font_size": 12})
        self.header = add(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.text = add({"border": 1, "valign": "top"})
        self.wrap = add({"border": 1, "text_wrap": True, "valign": "top"})
        self.count = add({"border": 1, "num_format": "#,##0", "valign": "top"})
        self.change = add({"border": 1, "num_format": "+#,##0;-#,##0;0", "valign": "top"})
        self.rate = add({"border": 1, "num_format": "0.0%", "valign": "top"})
        self.total_text = add({"bold": True, "border": 1, "top": 2, "bg_color": "#F2F2F2"})
        self.total_count = add(
            {"bold": True, "border": 1, "top": 2, "bg_color": "#F2F2F2", "num_format": "#,##0"}
        )
        self.total_change = add(
            {"bold": True, "border": 1, "top": 2, "bg_color": "#F2F2F2", "num_format": "+#,##0;-#,##0;0"}
        )
        self.total_rate = add(
            {"bold": True, "border": 1, "top": 2, "bg_color": "#F2F2F2", "num_format": "0.0%"}
        )

    def cell(self, kind: str, wide: bool, total: bool):
        if total:
            return {COUNT: self.total_count, CHANGE: self.total_change, RATE: self.total_rate}.get(
                kind, self.total_text
            )
        if kind in (COUNT, CHANGE, RATE):
            return {COUNT: self.count, CHANGE: self.change, RATE: self.rate}[kind]
        return self.wrap if wide else self.text


def _column_widths(sheet: Sheet) -> dict[int, float]:
    widths: dict[int, float] = {}
    for table in sheet.tables:
        for i, column in enumerate(table.columns):
            if column.width is not None:
                wanted = column.width
            else:
                values = (
                    [column.title]
                    + [row[i] for row in table.rows]
                    + ([table.total_row[i]] if table.total_row else [])
                )
                # headers wrap onto two lines, so they need only about half their length
                wanted = max(
                    [display_width(column.title) / 2 + 2] + [display_width(v) + 2 for v in values[1:]]
                )
                wanted = max(wanted, 8)
            widths[i] = min(max(widths.get(i, 0), wanted), MAX_WIDTH)
    return widths


def _write_table(ws, book, formats: _Formats, table: Table, row: int, widths: dict[int, float]) -> int:
    """Writes the table from ``row``; returns the next free row."""
    ws.write(row, 0, table.title, formats.table_title)
    row += 1
    header_row = row
    for i, column in enumerate(table.columns):
        ws.write(row, i, column.title, formats.header)
    ws.set_row(row, 32)
    row += 1
    first_data_row = row
    for values in table.rows:
        lines = 1
        for i, (column, value) in enumerate(zip(table.columns, values, strict=True)):
            width = widths.get(i, MAX_WIDTH)
            wide = display_width(value) > width
            ws.write(row, i, value, formats.cell(column.kind, wide, total=False))
            if wide:
                lines = max(lines, math.ceil(display_width(value) / max(width - 1, 1)))
        if lines > 1:
            # neither xlsxwriter nor LibreOffice grows a row for wrapped text: set its height
            ws.set_row(row, ROW_HEIGHT * lines)
        row += 1
    if table.total_row:
        for i, (column, value) in enumerate(zip(table.columns, table.total_row, strict=True)):
            ws.write(row, i, value, formats.cell(column.kind, False, total=True))
        row += 1
    if table.note:
        ws.write(row, 0, table.note, formats.note)
        row += 1
    if table.chart and table.chart.rows:
        # below the table, so that the sheet prints one table wide
        _insert_chart(ws, book, table, header_row, first_data_row, row + 1)
        row += CHART_ROWS
    if table.trend and table.rows:
        _insert_trend_chart(ws, book, table, header_row, first_data_row, row + 1)
        row += CHART_ROWS
    return row + 1


def _insert_trend_chart(ws, book, table: Table, header_row: int, first_data_row: int, at_row: int) -> None:
    """A native line chart of counts by month; a blank cell leaves a gap, a dashed line is a forecast."""
    trend = table.trend
    name = ws.get_name()
    last = first_data_row + len(table.rows) - 1
    chart = book.add_chart({"type": "line"})
    for line in trend.lines:
        chart.add_series(
            {
                "name": [name, header_row, line.column],
                "categories": [name, first_data_row, trend.categories_column, last, trend.categories_column],
                "values": [name, first_data_row, line.column, last, line.column],
                "line": {
                    "color": line.color,
                    "width": 2.25,
                    **({"dash_type": "dash"} if line.dashed else {}),
                },
                "marker": {"type": "none"},
            }
        )
    font = {"name": FONT}
    chart.set_title({"name": trend.title, "name_font": {**font, "size": 12, "bold": True}})
    chart.set_x_axis({"num_font": font})
    chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True}, "num_font": font})
    chart.set_legend({"position": "bottom", "font": font})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 640, "height": 320})
    ws.insert_chart(xl_rowcol_to_cell(at_row, 0), chart, {"x_offset": 4, "y_offset": 4})


def _insert_chart(ws, book, table: Table, header_row: int, first_data_row: int, at_row: int) -> None:
    chart_def = table.chart
    name = ws.get_name()
    last = first_data_row + chart_def.rows - 1
    categories = [name, first_data_row, chart_def.categories_column, last, chart_def.categories_column]
    bars = book.add_chart({"type": "column"})
    for col in chart_def.bar_columns:
        bars.add_series(
            {
                "name": [name, header_row, col],
                "categories": categories,
                "values": [name, first_data_row, col, last, col],
                "fill": {"color": "#4472C4"},
                "data_labels": {"value": True, "num_format": "0%"},
            }
        )
    line = book.add_chart({"type": "line"})
    line.add_series(
        {
            "name": [name, header_row, chart_def.line_column],
            "categories": categories,
            "values": [name, first_data_row, chart_def.line_column, last, chart_def.line_column],
            "line": {"color": "#C00000", "width": 2.25, "dash_type": "dash"},
            "marker": {"type": "none"},
        }
    )
    bars.combine(line)
    font = {"name": FONT}
    bars.set_title({"name": chart_def.title, "name_font": {**font, "size": 12, "bold": True}})
    bars.set_x_axis({"num_font": font})
    bars.set_y_axis({"num_format": "0%", "min": 0, "major_gridlines": {"visible": True}, "num_font": font})
    bars.set_legend({"position": "bottom", "font": font})
    bars.set_size({"width": 640, "height": 320})
    ws.insert_chart(xl_rowcol_to_cell(at_row, 0), bars, {"x_offset": 4, "y_offset": 4})


def write_sheet(book: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet) -> None:
    ws = book.add_worksheet(sheet.name)
    widths = _column_widths(sheet)
    for i, width in widths.items():
        ws.set_column(i, i, width)
    ws.write(0, 0, sheet.title, formats.title)
    ws.set_row(0, 24)
    row = TITLE_ROWS
    for note in sheet.notes:
        ws.write(row, 0, note, formats.note)
        row += 1
    row += 1
    for table in sheet.tables:
        start = row
        row = _write_table(ws, book, formats, table, row, widths)
        if len(sheet.tables) == 1 and table.rows:
            # a list of rows to fix: keep the header in view and let officials filter
            ws.freeze_panes(start + 2, 0)
            ws.autofilter(start + 1, 0, start + 1 + len(table.rows), len(table.columns) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


def write_workbook(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(path),
        {
            "default_format_properties": {"font_name": FONT, "font_size": 11},
            "strings_to_numbers": False,
            # assembled in memory, not in a temporary file per part (removing thousands of
            # them cost more than writing the workbooks)
            "in_memory": True,
        },
    )
    book.set_properties(
        {"title": report.title, "subject": report.subtitle, "company": "甘肃省人力资源和社会保障厅"}
    )
    formats = _Formats(book)
    for sheet in report.sheets:
        write_sheet(book, formats, sheet)
    book.close()
    return path
