"""Write the month's reports: one workbook and HTML page per city, and the province summary.

Plain functions over a DuckDB connection (read-only is enough): the Dagster assets call them, and
so can the benchmark or anyone by hand::

    import duckdb
    from orchestration.lib.reports.builder import write_city_reports
    con = duckdb.connect("warehouse/training.duckdb", read_only=True)
    write_city_reports(con, "2015-09", Path("reports"))

Files: ``<out_dir>/<month>/<city_code>_<city name>.xlsx`` and ``.html``; the province summary is
``<out_dir>/<month>/620000_甘肃省.xlsx`` and ``.html`` beside them.

``corrections`` (who takes corrections, and by which day of the next month) puts a line at the
top of every city report; it is part of the reports' inputs, so changing it rewrites them.

A report whose inputs did not change since it was written is left alone (freshness.py): a re-run
writes nothing, and a new county ledger rewrites only the reports it changes. ``force`` rewrites
all. For several months, pass one ``ReportData`` to every call so the warehouse is read once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.reports import freshness
from orchestration.lib.reports.content import Report, city_report, province_report
from orchestration.lib.reports.data import (
    PROVINCE_CODE,
    PROVINCE_NAME,
    CityInputs,
    Corrections,
    ProvinceInputs,
    ReportData,
)
from orchestration.lib.reports.html import write_html
from orchestration.lib.reports.workbook import write_workbook


@dataclass
class Outcome:
    """The files of the reports of a call: those written now and those already up to date."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return self.written + self.unchanged

    def __iadd__(self, other: Outcome) -> Outcome:
        self.written += other.written
        self.unchanged += other.unchanged
        return self


def report_dir(out_dir: Path, month: str) -> Path:
    return Path(out_dir) / month


def file_stem(inputs: CityInputs | ProvinceInputs) -> str:
    if isinstance(inputs, CityInputs):
        return f"{inputs.city.code}_{inputs.city.name}"
    return f"{PROVINCE_CODE}_{PROVINCE_NAME}"


def _write_report(
    inputs: CityInputs | ProvinceInputs, folder: Path, build, generated_on: date, force: bool
) -> Outcome:
    stem = file_stem(inputs)
    paths = [folder / f"{stem}.xlsx", folder / f"{stem}.html"]
    digest = freshness.fingerprint(inputs)
    if not force and freshness.is_up_to_date(folder, stem, digest):
        return Outcome(unchanged=paths)
    report: Report = build(inputs, generated_on)
    assert report.file_stem == stem, (report.file_stem, stem)
    folder.mkdir(parents=True, exist_ok=True)
    freshness.replace_atomically(paths[0], lambda tmp: write_workbook(report, tmp))
    freshness.replace_atomically(paths[1], lambda tmp: write_html(report, tmp))
    freshness.record(folder, stem, digest, paths)
    return Outcome(written=paths)


def write_city_reports(
    con: duckdb.DuckDBPyConnection,
    month: str,
    out_dir: Path,
    generated_on: date | None = None,
    *,
    report_data: ReportData | None = None,
    force: bool = False,
    corrections: Corrections | None = None,
) -> Outcome:
    """Every city's workbook and HTML twin for the month; nothing when the month has no data."""
    source = report_data or ReportData(con)
    outcome = Outcome()
    if not source.has_month(month):
        return outcome
    folder = report_dir(out_dir, month)
    for city in source.cities(month):
        outcome += _write_report(
            source.city_inputs(month, city, corrections),
            folder,
            city_report,
            generated_on or date.today(),
            force,
        )
    return outcome


def write_province_summary(
    con: duckdb.DuckDBPyConnection,
    month: str,
    out_dir: Path,
    generated_on: date | None = None,
    *,
    report_data: ReportData | None = None,
    force: bool = False,
) -> Outcome:
    """The province summary for the month (counts and attainment only); nothing when no data."""
    source = report_data or ReportData(con)
    if not source.has_month(month):
        return Outcome()
    return _write_report(
        source.province_inputs(month),
        report_dir(out_dir, month),
        province_report,
        generated_on or date.today(),
        force,
    )
