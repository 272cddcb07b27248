"""A Report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no font
or image from anywhere (government networks are closed, and a page that calls out leaks who
opened it). Fonts are named, not downloaded: the reader's own Chinese font is used.

Columns of names, places, periods and numbers stay on one line (a county name broken into
characters one per line is unreadable); only long text (``Column.wraps``: 问题说明, 来源文件, …)
wraps, at a minimum width. A header wraps only beyond 6 characters. A table wider than the
window scrolls sideways on its own.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from orchestration.lib.reports.content import (
    CHANGE,
    COUNT,
    RATE,
    Chart,
    Column,
    Report,
    Table,
    TrendChart,
    axis_scale,
    display_width,
)

STYLE = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", SimSun,
       sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #4472C4; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.sub { color: #555; margin-top: 0; }
ul.notes { color: #555; font-size: 13px; }
p.notice { font-size: 15px; font-weight: bold; color: #C00000; border: 1px solid #C00000;
           background: #FFF2F2; padding: 6px 10px; display: inline-block; margin: 4px 0 8px; }
div.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 6px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }
th { background: #DDEBF7; }
td.n { text-align: right; white-space: nowrap; }
td.t { white-space: nowrap; }
tr.total td { font-weight: bold; background: #F2F2F2; border-top: 2px solid #888; }
p.note { color: #555; font-size: 12px; font-style: italic; margin-top: 0; }
nav a { margin-right: 12px; }
svg text { font-family: inherit; }
"""


def _format(kind: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if kind == RATE:
        return f"{float(value):.1%}"
    if kind == CHANGE:
        return f"{int(value):+,d}" if value else "0"
    if kind == COUNT and isinstance(value, (int, float)):
        return f"{value:,.0f}"
    return escape(str(value))


HEADER_ONE_LINE = 6  # characters (12 width units) a header keeps on one line


def _header(column: Column) -> str:
    # em: one Chinese character of the table's font
    em = min(display_width(column.title), 2 * HEADER_ONE_LINE) / 2
    if column.wraps:
        em = max(em, column.width / 4)  # long text: at least half its workbook width
    return f'<th style="min-width:{em:g}em">{escape(column.title)}</th>'


def _cell(column: Column, value: object) -> str:
    if column.kind in (COUNT, CHANGE, RATE):
        return f'<td class="n">{_format(column.kind, value)}</td>'
    if column.wraps:
        return f"<td>{_format(column.kind, value)}</td>"
    return f'<td class="t">{_format(column.kind, value)}</td>'


def _table(table: Table) -> str:
    head = "".join(_header(c) for c in table.columns)
    body = []
    shown = table.rows if table.html_rows is None else table.rows[: table.html_rows]
    for row in shown:
        cells = "".join(_cell(c, v) for c, v in zip(table.columns, row, strict=True))
        body.append(f"<tr>{cells}</tr>")
    if table.total_row:
        cells = "".join(_cell(c, v) for c, v in zip(table.columns, table.total_row, strict=True))
        body.append(f'<tr class="total">{cells}</tr>')
    parts = [f"<h3>{escape(table.title)}</h3>"]
    if table.chart and table.chart.rows:
        parts.append(svg_chart(table.chart, table))
    if table.trend and table.rows:
        parts.append(svg_trend_chart(table.trend, table))
    rows = "".join(body)
    parts.append(f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>')
    parts.append("</div>")
    if len(shown) < len(table.rows):
        parts.append(f'<p class="note">{escape(cut_note(len(shown), len(table.rows)))}</p>')
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    return "\n".join(parts)


def cut_note(shown: int, rows: int) -> str:
    return f"网页只列出前 {shown:,} 行，共 {rows:,} 行：完整名单见同名 Excel 工作簿的同名工作表。"


def svg_chart(chart: Chart, table: Table, width: int = 720, height: int = 300) -> str:
    """Bars for the completion rate of each area, a dashed red line for the pro-rata line."""
    rows = table.rows[: chart.rows]
    labels = [str(r[chart.categories_column]) for r in rows]
    bars = [[float(r[c] or 0) for c in chart.bar_columns] for r in rows]
    line = [float(r[chart.line_column] or 0) for r in rows]
    # 0 to 100 % in steps of 20 %, further in round steps when an area is past its target
    top, tick = axis_scale(max([1.0, *line, *(v for b in bars for v in b)]))
    left, right, upper, lower = 48, 16, 36, 56
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(1, len(rows))
    bar_w = step * 0.5 / max(1, len(chart.bar_columns))

    def y(value: float) -> float:
        return upper + plot_h * (1 - value / top)

    out = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(chart.title)}</text>",
    ]
    for k in range(round(top / tick) + 1):
        value = tick * k
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">{value:.0%}</text>'
        )
    for i, (label, values) in enumerate(zip(labels, bars, strict=True)):
        x0 = left + step * i + step * 0.25
        for j, value in enumerate(values):
            x = x0 + j * bar_w
            out.append(
                f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
                f'height="{upper + plot_h - y(value):.1f}" '
                f'fill="#4472C4"><title>{escape(label)}：{value:.1%}</title></rect>'
            )
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y(value) - 4:.1f}" text-anchor="middle" font-size="11">'
                f"{value:.0%}</text>"
            )
        out.append(
            f'<text x="{left + step * (i + 0.5):.1f}" y="{upper + plot_h + 18}" text-anchor="middle" '
            'font-size="12">'
            f"{escape(label)}</text>"
        )
    points = " ".join(f"{left + step * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(line))
    if len(line) == 1:
        points = f"{left:.1f},{y(line[0]):.1f} {width - right:.1f},{y(line[0]):.1f}"
    out.append(
        f'<polyline points="{points}" fill="none" stroke="#C00000" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    legend_y = height - 12
    bar_name = escape(table.columns[chart.bar_columns[0]].title)
    line_name = escape(table.columns[chart.line_column].title)
    out.append(f'<rect x="{left}" y="{legend_y - 10}" width="14" height="10" fill="#4472C4"/>')
    out.append(f'<text x="{left + 20}" y="{legend_y}" font-size="12">{bar_name}</text>')
    out.append(
        f'<line x1="{left + 110}" x2="{left + 140}" y1="{legend_y - 5}" y2="{legend_y - 5}" stroke="#C00000" '
        f'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(f'<text x="{left + 146}" y="{legend_y}" font-size="12">{line_name}</text>')
    out.append("</svg>")
    return "\n".join(out)


def svg_trend_chart(chart: TrendChart, table: Table, width: int = 720, height: int = 300) -> str:
    """Lines of counts by month (a blank cell breaks the line); a forecast line is dashed."""
    labels = [str(r[chart.categories_column]) for r in table.rows]
    values = [v for r in table.rows for line in chart.lines if isinstance(v := r[line.column], (int, float))]
    top, tick = axis_scale(max([1, *values]), whole=True)
    left, right, upper, lower = 56, 16, 36, 56
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(1, len(labels))

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(value: float) -> float:
        return upper + plot_h * (1 - value / top)

    out = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(chart.title)}</text>",
    ]
    for k in range(round(top / tick) + 1):
        value = tick * k
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{value:,.0f}</text>"
        )
    for i, label in enumerate(labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{upper + plot_h + 18}" text-anchor="middle" font-size="12">'
            f"{escape(label)}</text>"
        )
    legend_x = left
    for line in chart.lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        points = [
            (x(i), y(float(r[line.column]))) for i, r in enumerate(table.rows) if r[line.column] is not None
        ]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{line.color}" stroke-width="2"{dash}/>'
            )
        title = escape(table.columns[line.column].title)
        legend_y = height - 12
        out.append(
            f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{legend_y - 5}" y2="{legend_y - 5}" '
            f'stroke="{line.color}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{legend_x + 34}" y="{legend_y}" font-size="12">{title}</text>')
        legend_x += 34 + 13 * len(table.columns[line.column].title) + 16
    out.append("</svg>")
    return "\n".join(out)


def render(report: Report) -> str:
    nav = "".join(f'<a href="#s{i}">{escape(s.name)}</a>' for i, s in enumerate(report.sheets))
    sections = []
    for i, sheet in enumerate(report.sheets):
        notes = "".join(f"<li>{escape(n)}</li>" for n in sheet.notes)
        tables = "\n".join(_table(t) for t in sheet.tables)
        # the first sheet's title is the report's, already the page's <h1>: the title once
        heading = sheet.name if sheet.title == report.title else sheet.title
        sections.append(
            f'<section id="s{i}"><h2>{escape(heading)}</h2>'
            + (f'<ul class="notes">{notes}</ul>' if notes else "")
            + tables
            + "</section>"
        )
    notice = f'<p class="notice">{escape(report.notice)}</p>' if report.notice else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body>"
        f'<h1>{escape(report.title)}</h1><p class="sub">{escape(report.subtitle)}</p>{notice}'
        f"<nav>{nav}</nav>" + "\n".join(sections) + "</body></html>\n"
    )


def write_html(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
