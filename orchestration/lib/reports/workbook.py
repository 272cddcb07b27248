"""A Report as an .xlsx workbook (xlsxwriter): titled tables, sized columns, a native chart.

Column widths are measured in display width: a Chinese character takes two units, so headers
and place names are not cut off when an official opens the file in Excel, WPS or LibreOffice.
The body font is 宋体 (SimSun), present wherever Chinese Office or WPS is.

No spreadsheet grows a row for wrapped text written by a program, so each row's height is set
here: the lines its longest cell wraps into (``wrapped_lines``, breaking as a spreadsheet does)
times a line height that fits 宋体 and the Noto CJK fonts LibreOffice falls back to. Notes wrap
within the width of their table rather than run off the printed page.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from orchestration.lib.reports.content import (
    CHANGE,
    COUNT,
    RATE,
    Report,
    Sheet,
    Table,
    axis_scale,
    display_width,
)

__all__ = ["LINE_HEIGHT", "display_width", "row_height", "wrapped_lines", "write_workbook"]

FONT = "宋体"
MAX_WIDTH = 60
DEFAULT_WIDTH = 8.43  # a column no table sets
TITLE_ROWS = 1
# points per line of 11-point text: 宋体 needs 14.25, Noto Sans CJK (LibreOffice's stand-in for
# 宋体 where it is missing) about 16; a row of n lines is n × LINE_HEIGHT + ROW_PADDING
LINE_HEIGHT = 16
ROW_PADDING = 2
CHART_ROWS = 18  # rows a 320-pixel chart covers


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """What a line breaks between: each Chinese character alone, a run of spaces, and a run of
    other characters (a word, a number, a file name), which moves to the next line whole."""
    tokens: list[str] = []
    for ch in text:
        if _wide(ch):
            tokens.append(ch)
        elif tokens and not _wide(tokens[-1][-1]) and tokens[-1][-1].isspace() == ch.isspace():
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def wrapped_lines(text: object, width: float) -> int:
    """The lines ``text`` takes in a wrapping cell ``width`` units wide: greedy, as Excel, WPS
    and LibreOffice break, one unit of the width left for the cell's margins."""
    text = "" if text is None else str(text)
    room = max(width - 1, 2)
    # a character is at most two units wide and an ASCII one 1.1 (a masked ID, a date): most
    # cells are known to fit without measuring them character by character
    if "\n" not in text and (
        2 * len(text) <= room
        or (text.isascii() and 1.1 * len(text) + 1e-6 < room)
        or display_width(text) <= room
    ):
        return 1
    return _wrapped_lines(text, width)


@functools.lru_cache(maxsize=2**16)
def _wrapped_lines(text: str, width: float) -> int:
    # cached: the same details, institutions and notes recur in every month's reports of a city
    room = max(width - 1, 2)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for token in _tokens(paragraph):
            w = display_width(token)
            if token.isspace() or used + w <= room:  # a space at the end of a line just hangs
                used += w
            elif w <= room:
                lines += 1
                used = w
            else:  # longer than a line: broken where each line is full
                for ch in token:
                    if used + display_width(ch) > room:
                        lines += 1
                        used = 0.0
                    used += display_width(ch)
    return lines


def row_height(lines: int) -> float:
    return LINE_HEIGHT * lines + ROW_PADDING


@dataclass(frozen=True)
class _NoteFormats:
    one_line: object
    wrapped: object


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        self.title = add({"bold": True, "font_size": 14})
        note = {"italic": True, "font_color": "#555555", "valign": "top"}
        self.note = _NoteFormats(add(note), add({**note, "text_wrap": True}))
        notice = {"bold": True, "font_color": "#C00000", "border": 1, "valign": "vcenter"}
        self.notice = _NoteFormats(add(notice), add({**notice, "text_wrap": True}))
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


def write_note(ws, row: int, text: str, fmt, widths: dict[int, float], columns: int) -> None:
    """A note across the first ``columns`` columns (merged), wrapped to their width; without a
    table to span (``columns`` < 2), on one line running to the right."""
    if columns < 2:
        ws.write(row, 0, text, fmt.one_line)
        return
    ws.merge_range(row, 0, row, columns - 1, text, fmt.wrapped)
    lines = wrapped_lines(text, sum(widths.get(i, DEFAULT_WIDTH) for i in range(columns)))
    if lines > 1:
        ws.set_row(row, row_height(lines))


def _write_number(ws, row: int, col: int, value, fmt) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:  # a Decimal rate, or a text in a count column ("—")
        ws.write(row, col, value, fmt)


def _write_table(ws, book, formats: _Formats, table: Table, row: int, widths: dict[int, float]) -> int:
    """Writes the table from ``row``; returns the next free row."""
    ws.write(row, 0, table.title, formats.table_title)
    row += 1
    header_row = row
    for i, column in enumerate(table.columns):
        ws.write(row, i, column.title, formats.header)
    header_lines = max(wrapped_lines(c.title, widths.get(i, MAX_WIDTH)) for i, c in enumerate(table.columns))
    ws.set_row(row, row_height(max(header_lines, 2)))
    row += 1
    first_data_row = row
    kinds = [column.kind in (COUNT, CHANGE, RATE) for column in table.columns]
    plain = [formats.cell(column.kind, False, total=False) for column in table.columns]
    wrapping = [formats.cell(column.kind, True, total=False) for column in table.columns]
    room = [widths.get(i, MAX_WIDTH) for i in range(len(table.columns))]
    for values in table.rows:
        if len(values) != len(kinds):
            raise ValueError(f"{table.title}: a row of {len(values)} values for {len(kinds)} columns")
        lines = 1
        for i, value in enumerate(values):
            # the typed writers, not ws.write: a work list is a million cells at province scale
            # and write() tries each type in turn (a text is never read as a formula or a link)
            if kinds[i]:
                _write_number(ws, row, i, value, plain[i])
            elif value is None or value == "":
                ws.write_blank(row, i, None, plain[i])
            else:
                needed = wrapped_lines(value, room[i])
                write = ws.write_string if isinstance(value, str) else ws.write
                write(row, i, value, wrapping[i] if needed > 1 else plain[i])
                lines = max(lines, needed)
        if lines > 1:
            # no spreadsheet grows a row for wrapped text it did not type: set its height
            ws.set_row(row, row_height(lines))
        row += 1
    if table.total_row:
        for i, (column, value) in enumerate(zip(table.columns, table.total_row, strict=True)):
            ws.write(row, i, value, formats.cell(column.kind, False, total=True))
        row += 1
    if table.note:
        write_note(ws, row, table.note, formats.note, widths, len(table.columns))
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
    values = [v for r in table.rows for line in trend.lines if isinstance(v := r[line.column], (int, float))]
    top, step = axis_scale(max([1, *values]), whole=True)  # the same round ticks as the HTML chart
    chart.set_title({"name": trend.title, "name_font": {**font, "size": 12, "bold": True}})
    chart.set_x_axis({"num_font": font})
    chart.set_y_axis(
        {"min": 0, "max": top, "major_unit": step, "major_gridlines": {"visible": True}, "num_font": font}
    )
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
            # one area: a line through one point is not drawn, a wide dash marker stands for it
            "marker": {"type": "none"}
            if chart_def.rows > 1
            else {"type": "dash", "size": 40, "fill": {"color": "#C00000"}, "border": {"color": "#C00000"}},
        }
    )
    bars.combine(line)
    font = {"name": FONT}
    bars.set_title({"name": chart_def.title, "name_font": {**font, "size": 12, "bold": True}})
    bars.set_x_axis({"num_font": font})
    columns = (*chart_def.bar_columns, chart_def.line_column)
    rates = [float(r[c] or 0) for r in table.rows[: chart_def.rows] for c in columns]
    top, step = axis_scale(max([1.0, *rates]))  # the same round ticks as the HTML chart
    bars.set_y_axis(
        {
            "num_format": "0%",
            "min": 0,
            "max": top,
            "major_unit": step,
            "major_gridlines": {"visible": True},
            "num_font": font,
        }
    )
    bars.set_legend({"position": "bottom", "font": font})
    bars.set_size({"width": 640, "height": 320})
    ws.insert_chart(xl_rowcol_to_cell(at_row, 0), bars, {"x_offset": 4, "y_offset": 4})


def write_sheet(book: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet, notice: str = "") -> None:
    ws = book.add_worksheet(sheet.name)
    widths = _column_widths(sheet)
    for i, width in widths.items():
        ws.set_column(i, i, width)
    ws.write(0, 0, sheet.title, formats.title)
    ws.set_row(0, 24)
    row = TITLE_ROWS
    # notes as wide as the widest table (no table: as wide as a few default columns)
    span = max((len(t.columns) for t in sheet.tables), default=0)
    if notice:
        write_note(ws, row, notice, formats.notice, widths, max(span, 8))
        row += 1
    for note in sheet.notes:
        write_note(ws, row, note, formats.note, widths, span)
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
    for i, sheet in enumerate(report.sheets):
        write_sheet(book, formats, sheet, report.notice if i == 0 else "")
    book.close()
    return path
