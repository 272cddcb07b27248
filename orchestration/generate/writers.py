"""Write grids of cells as .xlsx (xlsxwriter), .xls (xlwt), .ods and .csv.

Output is byte-deterministic: fixed document dates, fixed zip timestamps. The .ods writer is
our own small streaming writer: odfpy builds a DOM and wrote ~20,000 cells/s here, far too slow
for the province (xlsxwriter ~200,000, this writer ~1,000,000).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import xlsxwriter
import xlwt

from orchestration.generate.layout import Grid

DOCUMENT_DATE = datetime(2015, 12, 31, 9, 0, 0)
ZIP_DATE = (2015, 12, 31, 9, 0, 0)
CONSTANT_MEMORY_ROWS = 20_000  # above this many rows in a sheet, xlsxwriter streams rows to disk


def write_file(path: Path, fmt: str, grids: list[Grid]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        write_xlsx(path, grids)
    elif fmt == "xls":
        write_xls(path, grids)
    elif fmt == "ods":
        write_ods(path, grids)
    elif fmt == "csv-gb18030":
        write_csv(path, grids[0], "gb18030")
    elif fmt == "csv-utf8":
        write_csv(path, grids[0], "utf-8-sig")
    else:
        raise ValueError(f"unknown format {fmt}")


# ---------------------------------------------------------------------------------------------
# xlsx


def write_xlsx(path: Path, grids: list[Grid]) -> None:
    big = any(len(g.cells) > CONSTANT_MEMORY_ROWS for g in grids)
    options = {
        "constant_memory": big,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"created": DOCUMENT_DATE, "author": "", "company": ""})
    bold = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    date_formats: dict[str, object] = {}
    for grid in grids:
        ws = workbook.add_worksheet(grid.name)
        if grid.date_format not in date_formats:
            date_formats[grid.date_format] = workbook.add_format({"num_format": grid.date_format})
        date_fmt = date_formats[grid.date_format]
        merges_by_row: dict[int, list] = {}
        for m in grid.merges:
            merges_by_row.setdefault(m[0], []).append(m)
        covered = _covered(grid)
        header_rows = set(grid.header_rows)
        write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
        for r, row in enumerate(grid.cells):
            fmt = bold if r in header_rows else None
            # rows are written in order and a merge only after its first row's cells (constant_memory)
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if isinstance(value, str):
                    write_string(r, c, value, fmt)
                elif isinstance(value, date):
                    write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
                else:
                    write_number(r, c, value, fmt)
            for r0, c0, r1, c1 in merges_by_row.get(r, ()):
                ws.merge_range(r0, c0, r1, c1, row[c0] if row[c0] is not None else "", fmt or bold)
    workbook.close()


def _covered(grid: Grid) -> set[tuple[int, int]]:
    """Cells hidden under a merge (all but its top-left cell)."""
    cells = set()
    for r0, c0, r1, c1 in grid.merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    cells.add((r, c))
    return cells


# ---------------------------------------------------------------------------------------------
# xls (Excel 97)


class _Workbook(xlwt.Workbook):
    """xlwt looks every cell's style up again (a third of its time); we use three styles."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._style_index: dict[int, int] = {}

    def add_style(self, style):
        index = self._style_index.get(id(style))
        if index is None:
            index = self._style_index[id(style)] = super().add_style(style)
        return index


def write_xls(path: Path, grids: list[Grid]) -> None:
    workbook = _Workbook(encoding="utf-8")
    header_style = xlwt.easyxf("font: bold on; align: horiz center, vert center")
    date_styles: dict[str, xlwt.XFStyle] = {}
    for grid in grids:
        ws = workbook.add_sheet(grid.name[:31], cell_overwrite_ok=True)
        if grid.date_format not in date_styles:
            style = xlwt.XFStyle()
            style.num_format_str = grid.date_format
            date_styles[grid.date_format] = style
        date_style = date_styles[grid.date_format]
        covered = _covered(grid)
        header_rows = set(grid.header_rows)
        merge_starts = {(m[0], m[1]): m for m in grid.merges}
        for r, row in enumerate(grid.cells):
            for c, value in enumerate(row):
                if (r, c) in covered:
                    continue
                if (r, c) in merge_starts:
                    r0, c0, r1, c1 = merge_starts[(r, c)]
                    ws.write_merge(r0, r1, c0, c1, value if value is not None else "", header_style)
                    continue
                if value is None:
                    continue
                if isinstance(value, date):
                    ws.write(r, c, datetime(value.year, value.month, value.day), date_style)
                elif r in header_rows:
                    ws.write(r, c, value, header_style)
                else:
                    ws.write(r, c, value)
    workbook.save(str(path))


# ---------------------------------------------------------------------------------------------
# ods (OpenDocument spreadsheet), streamed as XML

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
)
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest {ODS_NS} manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{ODS_MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
ODS_STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {ODS_NS} office:version="1.2"><office:styles>
<style:style style:name="Default" style:family="table-cell"/>
</office:styles></office:document-styles>
"""
ODS_META = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {ODS_NS} office:version="1.2"><office:meta>
<meta:creation-date>{DOCUMENT_DATE.isoformat()}</meta:creation-date>
</office:meta></office:document-meta>
"""


def _ods_date_style(name: str, number_format: str) -> str:
    parts = []
    if number_format == 'yyyy"年"m"月"d"日"':
        pieces = [("year", "long"), "年", ("month", "short"), "月", ("day", "short"), "日"]
    elif number_format == "yyyy/m/d":
        pieces = [("year", "long"), "/", ("month", "short"), "/", ("day", "short")]
    else:
        pieces = [("year", "long"), "-", ("month", "long"), "-", ("day", "long")]
    for p in pieces:
        if isinstance(p, tuple):
            parts.append(f'<number:{p[0]} number:style="{p[1]}"/>')
        else:
            parts.append(f"<number:text>{p}</number:text>")
    return f'<number:date-style style:name="{name}">{"".join(parts)}</number:date-style>'


def _ods_text(value: str) -> str:
    """Text for a <text:p>, keeping runs of spaces (ODF collapses plain ones)."""
    if "  " not in value and not value.startswith(" ") and not value.endswith(" "):
        return escape(value)
    out = []
    for i, ch in enumerate(value):
        if ch == " " and (i == 0 or i == len(value) - 1 or value[i - 1] == " " or value[i + 1] == " "):
            out.append("<text:s/>")
        else:
            out.append(escape(ch))
    return "".join(out)


def _ods_cell(value, span: tuple[int, int] | None, style: str | None) -> str:
    attrs = ""
    if span:
        attrs = f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"'
    if style:
        attrs += f' table:style-name="{style}"'
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, str):
        text = _ods_text(value)
        return (
            f'<table:table-cell{attrs} office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
        )
    if isinstance(value, date):
        iso = value.isoformat()
        return (
            f'<table:table-cell table:style-name="ce_date"{attrs} office:value-type="date" '
            f'office:date-value="{iso}"><text:p>{iso}</text:p></table:table-cell>'
        )
    shown = repr(value) if isinstance(value, float) else str(value)
    return f'<table:table-cell{attrs} office:value-type="float" office:value="{shown}"><text:p>{shown}</text:p></table:table-cell>'  # noqa: E501


def write_ods(path: Path, grids: list[Grid]) -> None:
    date_format = grids[0].date_format if grids else "yyyy-mm-dd"
    body = io.StringIO()
    w = body.write
    w(f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODS_NS} office:version="1.2">')
    w("<office:automatic-styles>")
    w(_ods_date_style("N_date", date_format))
    w('<style:style style:name="ce_date" style:family="table-cell" style:data-style-name="N_date"/>')
    w('<style:style style:name="ce_head" style:family="table-cell">')
    w('<style:text-properties fo:font-weight="bold"/></style:style>')
    w("</office:automatic-styles><office:body><office:spreadsheet>")
    for grid in grids:
        width = max((len(r) for r in grid.cells), default=1)
        w(f'<table:table table:name="{escape(grid.name, {chr(34): "&quot;"})}">')
        w(f'<table:table-column table:number-columns-repeated="{width}"/>')
        spans = {(m[0], m[1]): (m[2] - m[0] + 1, m[3] - m[1] + 1) for m in grid.merges}
        covered = _covered(grid)
        header_rows = set(grid.header_rows)
        for r, row in enumerate(grid.cells):
            w("<table:table-row>")
            style = "ce_head" if r in header_rows else None
            for c, value in enumerate(row):
                if (r, c) in covered:
                    w("<table:covered-table-cell/>")
                else:
                    w(_ods_cell(value, spans.get((r, c)), style))
            w("</table:table-row>")
        w("</table:table>")
    w("</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as z:
        _zip_add(z, "mimetype", ODS_MIMETYPE, zipfile.ZIP_STORED)
        _zip_add(z, "META-INF/manifest.xml", ODS_MANIFEST)
        _zip_add(z, "styles.xml", ODS_STYLES)
        _zip_add(z, "meta.xml", ODS_META)
        _zip_add(z, "content.xml", body.getvalue())


def _zip_add(z: zipfile.ZipFile, name: str, text: str, compression: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    z.writestr(info, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# csv, as Excel saves it: merged cells become a value and blanks


def write_csv(path: Path, grid: Grid, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        for row in grid.cells:
            writer.writerow(["" if v is None else v if isinstance(v, str) else _csv_value(v) for v in row])


def _csv_value(value) -> str:
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float):
        return f"{value:.15G}"
    return str(value)
