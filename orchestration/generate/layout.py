"""From sheet rows to a grid of cells, the way a county office lays a sheet out.

Title and 填报单位 rows, one- or two-row headers with merged cells, 序号 and 备注 columns,
合计 rows, blank rows, and the mess of hand-typed values (every date form, full-width digits,
trailing 人, thousands separators, IDs as number cells). Each data row's spreadsheet row number
(1-based, as Excel shows it) is stored back in the row dict under "_row", and the sheet's name
under "_sheet", for the manifest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from orchestration.generate.plan import EXTRA_HEADERS, REMARK, SEQ, FilePlan, SheetPlan, Style
from orchestration.generate.rows import NumericId
from orchestration.sources import PROGRAMME_CODES, Source

XLS_MAX_ROWS = 65_536
EXCEL_EPOCH = date(1899, 12, 30)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
TEXT_DATE_STYLES = ("iso", "slash", "dot", "chinese", "compact")
# Sources whose sheets may carry 合计 rows in the middle: grouped by which column, labelled in which.
SUBTOTALS = {"village_statistics": ("township", "village"), "task_allocations": ("city", "county")}


@dataclass
class Grid:
    """One sheet as cells. Cell values: None, str, int, float, or date (an Excel date cell)."""

    name: str
    cells: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based r0, c0, r1, c1
    date_format: str = "yyyy-mm-dd"
    header_rows: tuple[int, ...] = ()  # 0-based indexes of header rows (written bold)
    data_rows: int = 0


def column_order(source: Source, style: Style) -> list[str]:
    """The sheet's columns: the style's own columns with the programme columns in their place."""
    own = [c for c in style.columns if c != REMARK]
    programme_cols: list[str] = []
    if source.name == "progress_reports":
        for code in PROGRAMME_CODES:
            programme_cols += [f"task_{code.lower()}", f"done_{code.lower()}"]
    else:
        for prefix, _ in source.programme_groups:
            programme_cols += [f"{prefix}_{code.lower()}" for code in PROGRAMME_CODES]
    if programme_cols:
        anchor = "target_persons" if "target_persons" in own else own[-1]
        at = own.index(anchor) + 1
        own = own[:at] + programme_cols + own[at:]
    return own + ([REMARK] if REMARK in style.columns else [])


def format_date(d: date, style: str):
    if style == "excel_date":
        return d
    if style == "serial":
        return (d - EXCEL_EPOCH).days
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "dot":
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    if style == "chinese":
        return f"{d.year}年{d.month}月{d.day}日"
    return d.strftime("%Y%m%d")


def csv_rounded(value: float) -> str:
    """How Excel displays (and saves to csv) a big number in a General cell: 6.21123E+17."""
    return f"{value:.6G}"


class CellRenderer:
    def __init__(self, source: Source, style: Style, rng: random.Random):
        self.style = style
        self.rng = rng
        self.kinds = {c.name: c.kind for c in source.all_columns}
        self.person_counts = {
            c.name for c in source.all_columns if c.kind == "count" and c.header.endswith(("人数", "人口数"))
        }

    def __call__(self, column: str, value):
        if value is None:
            return None
        kind = self.kinds.get(column, "text")
        style, rng = self.style, self.rng
        messy = style.mess and rng.random() < style.mess
        if kind == "date":
            if isinstance(value, str):
                return value
            form = style.date_style
            if messy:
                form = rng.choice(TEXT_DATE_STYLES)
            return format_date(value, form)
        if kind == "month":
            return (
                f"{value.year}-{value.month:02d}"
                if style.month_style == "iso"
                else f"{value.year}年{value.month}月"
            )
        if kind == "yes_no":
            return "是" if value else "否"
        if kind == "count":
            if isinstance(value, str):
                return value
            if messy and column != "year":
                roll = rng.random()
                if roll < 0.4:
                    return str(value).translate(FULL_WIDTH)
                if roll < 0.8 and column in self.person_counts:
                    return f"{value}人"
                if value >= 1000:
                    return f"{value:,}"
            return str(value) if style.is_csv else value
        if kind == "amount":
            if messy:
                return f"{value:,.2f}"
            return str(value) if style.is_csv else value
        if kind == "id_number":
            if isinstance(value, NumericId):
                return value.text if style.is_csv else value.value
            text = value
            if style.lower_x and text.endswith("X"):
                text = text[:-1] + "x"
            if messy:
                text = text.translate(FULL_WIDTH) if rng.random() < 0.7 else text + " "
            return text
        if isinstance(value, str):
            if messy and value and rng.random() < 0.2:
                return value + " "
            return value
        return value


def _totals_row(
    columns: list[str], rows: list[dict], renderer: CellRenderer, label_col: int, label: str
) -> list:
    cells: list = [None] * len(columns)
    for i, col in enumerate(columns):
        if renderer.kinds.get(col) == "count" and col != "year":
            values = [r.get(col) for r in rows]
            if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                total = sum(values)
                cells[i] = str(total) if renderer.style.is_csv else total
    cells[label_col] = label
    return cells


def layout_sheet(file: FilePlan, sheet: SheetPlan, rng: random.Random) -> list[Grid]:
    """Lay one sheet out; an .xls sheet longer than Excel 97 allows is continued on more sheets."""
    style, source = file.style, file.source
    columns = column_order(source, style)
    headers = [EXTRA_HEADERS.get(c) or style.headers[c] for c in columns]
    top_rows = int(style.title) + int(style.unit_row) + int(style.blank_after_title)
    two_rows = source.name == "progress_reports" or style.two_row_header
    limit = XLS_MAX_ROWS - top_rows - 2 - 50 if file.fmt == "xls" else None
    chunks = [sheet.rows]
    if limit and len(sheet.rows) > limit:
        chunks = [sheet.rows[i : i + limit] for i in range(0, len(sheet.rows), limit)]
    grids = []
    for part, rows in enumerate(chunks):
        name = sheet.name if part == 0 else f"{sheet.name[:26]}({part + 1})"
        grids.append(_layout_part(file, sheet, name, rows, columns, headers, two_rows, rng))
    return grids


def _layout_part(file, sheet, name, rows, columns, headers, two_rows, rng) -> Grid:
    style, source = file.style, file.source
    grid = Grid(name, date_format=style.date_format)
    width = len(columns)
    render = CellRenderer(source, style, rng)
    csv = style.is_csv

    def add(cells: list) -> int:
        grid.cells.append(cells + [None] * (width - len(cells)))
        return len(grid.cells) - 1

    if style.title:
        r = add([sheet.title])
        grid.merges.append((r, 0, r, width - 1))
    if style.unit_row:
        r = add([sheet.unit_text])
        if rng.random() < 0.5:
            grid.merges.append((r, 0, r, width - 1))
    if style.blank_after_title:
        add([])
    if two_rows:
        _two_row_header(grid, source, style, columns, headers, add)
    else:
        grid.header_rows = (add(list(headers)),)

    label_col = 0
    for i, col in enumerate(columns):
        if col in ("city", "county", "township", "village", SEQ):
            label_col = i
            break
    group_key, group_label_col = SUBTOTALS.get(source.name, (None, None))
    subtotals = style.subtotals and group_key is not None
    subtotal_col = columns.index(group_label_col) if group_label_col in columns else label_col
    previous_group = None
    group_rows: list[dict] = []
    for seq, row in enumerate(rows, start=1):
        group = row.get(group_key) if subtotals else None
        if subtotals and previous_group not in (None, group):
            add(_totals_row(columns, group_rows, render, subtotal_col, "合计"))
            group_rows = []
        previous_group = group
        cells = []
        for col in columns:
            if col == SEQ:
                cells.append(str(seq) if csv else seq)
            elif col == REMARK:
                cells.append(None)
            else:
                cells.append(render(col, row.get(col)))
        r = add(cells)
        row["_row"] = r + 1
        row["_sheet"] = "" if csv else name
        group_rows.append(row)
        grid.data_rows += 1
        if style.blank_rows and rng.random() < style.blank_rows:
            add([])
    if subtotals and group_rows:
        add(_totals_row(columns, group_rows, render, subtotal_col, "合计"))
    if source.name == "war_map_targets" or (style.totals_row and source.name != "progress_reports"):
        add(_totals_row(columns, rows, render, label_col, "合计"))
    return grid


def _two_row_header(grid: Grid, source: Source, style: Style, columns, headers, add) -> None:
    """Own columns merged over two rows; programme columns under a group cell."""
    top: list = [None] * len(columns)
    bottom: list = [None] * len(columns)
    r = len(grid.cells)
    merges = []
    i = 0
    while i < len(columns):
        col = columns[i]
        if source.name == "progress_reports" and col.startswith("task_"):
            code = col[len("task_") :].upper()
            top[i] = style.headers[f"_prog_{code}"]
            bottom[i], bottom[i + 1] = "任务数", "已完成"
            merges.append((r, i, r, i + 1))
            i += 2
            continue
        if col.startswith("plan_"):
            start = i
            while i < len(columns) and columns[i].startswith("plan_"):
                bottom[i] = headers[i]
                i += 1
            top[start] = style.group_label
            merges.append((r, start, r, i - 1))
            continue
        top[i] = headers[i]
        merges.append((r, i, r + 1, i))
        i += 1
    grid.header_rows = (add(top), add(bottom))
    grid.merges.extend(merges)
