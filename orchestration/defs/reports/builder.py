"""Write the month's reports: one workbook and HTML page per city, and the province summary.

Plain functions over a DuckDB connection (read-only is enough): the Dagster assets call them, and
so can the benchmark or anyone by hand::

    import duckdb
    from orchestration.defs.reports.builder import write_city_reports
    con = duckdb.connect("warehouse/training.duckdb", read_only=True)
    write_city_reports(con, "2015-09", Path("reports"))

Files: ``<out_dir>/<month>/<city_code>_<city name>.xlsx`` and ``.html``; the province summary is
``<out_dir>/<month>/620000_甘肃省.xlsx`` and ``.html`` beside them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.reports import data
from orchestration.defs.reports.content import city_report, province_report
from orchestration.defs.reports.html import write_html
from orchestration.defs.reports.workbook import write_workbook


def report_dir(out_dir: Path, month: str) -> Path:
    return Path(out_dir) / month


def write_city_reports(
    con: duckdb.DuckDBPyConnection, month: str, out_dir: Path, generated_on: date | None = None
) -> list[Path]:
    """Every city's workbook and HTML twin for the month; [] when the month has no data."""
    if not data.has_month(con, month):
        return []
    folder = report_dir(out_dir, month)
    written = []
    for city in data.cities(con, month):
        report = city_report(con, month, city, generated_on or date.today())
        written.append(write_workbook(report, folder / f"{report.file_stem}.xlsx"))
        written.append(write_html(report, folder / f"{report.file_stem}.html"))
    return written


def write_province_summary(
    con: duckdb.DuckDBPyConnection, month: str, out_dir: Path, generated_on: date | None = None
) -> list[Path]:
    """The province summary for the month (counts and attainment only); [] when no data."""
    if not data.has_month(con, month):
        return []
    report = province_report(con, month, data.cities(con, month), generated_on or date.today())
    folder = report_dir(out_dir, month)
    return [
        write_workbook(report, folder / f"{report.file_stem}.xlsx"),
        write_html(report, folder / f"{report.file_stem}.html"),
    ]
