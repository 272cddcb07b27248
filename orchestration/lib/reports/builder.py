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
all. For several months, pass one ``ReportData`` to every call so the warehouse is read once, and
one ``ReportWriters`` to have the reports laid out and written by worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
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


@dataclass(frozen=True)
class _Job:
    """A report to write: its inputs, where, and the fingerprint to record after."""

    inputs: CityInputs | ProvinceInputs
    build: Callable[..., Report]
    generated_on: date
    folder: Path
    stem: str
    digest: str
    paths: list[Path]
    # reads what the fingerprint stood for but only a written report needs (a city's work list
    # rows), where the report is written
    complete: Callable[..., CityInputs | ProvinceInputs] | None = None


def _write_files(job: _Job) -> None:
    """Lays the report out and writes its files, then its fingerprint (here or in a worker)."""
    inputs = job.complete(job.inputs) if job.complete else job.inputs
    report = job.build(inputs, job.generated_on)
    assert report.file_stem == job.stem, (report.file_stem, job.stem)
    job.folder.mkdir(parents=True, exist_ok=True)
    freshness.replace_atomically(job.paths[0], lambda tmp: write_workbook(report, tmp))
    freshness.replace_atomically(job.paths[1], lambda tmp: write_html(report, tmp))
    freshness.record(job.folder, job.stem, job.digest, job.paths)


class ReportWriteError(RuntimeError):
    """A report handed to a worker process was not written: names the workbook."""


class ReportWriters:
    """Writes reports in worker processes while this process reads the next report's inputs.

    A city's latest report carries its whole work list: at province scale 13–110 thousand rows,
    about 15 s of xlsxwriter each, read by the worker itself (``in_workers``: write_city_reports
    hands over a ``WorkListReader``, not the rows). The other months' reports are small, but
    written here they left one of two cores idle for every month but the latest. ``workers`` ≤ 1
    writes everything here. Use as a context manager (or call ``close``): leaving waits for
    every report handed over and raises the first failure."""

    def __init__(self, workers: int | None = None):
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[Path, Future]] = deque()

    @property
    def in_workers(self) -> bool:
        return self.workers > 1

    def write(self, job: _Job) -> None:
        if not self.in_workers:
            _write_files(job)
            return
        if self._pool is None:
            # spawn: no fork of a process that holds DuckDB and Dagster's threads
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        # as many reports handed over as there are workers: their inputs are held until written
        while len(self._pending) >= self.workers:
            self._wait_for_oldest()
        self._pending.append((job.paths[0], self._pool.submit(_write_files, job)))

    def _wait_for_oldest(self) -> None:
        path, future = self._pending.popleft()
        try:
            future.result()
        except Exception as error:  # a worker's failure, or the worker gone (killed, out of memory)
            raise ReportWriteError(f"{path}: not written: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        try:
            while self._pending:
                self._wait_for_oldest()
        finally:
            for _, future in self._pending:
                future.cancel()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def __enter__(self) -> ReportWriters:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def in_writing_order(months: list[str]) -> list[str]:
    """The latest month first: its city reports carry the work lists, the longest to write, so
    that the small reports of the earlier months fill the workers at the end instead of a last
    work list keeping one worker busy alone (the province's reports: 170.7 → 169.1 s, as the
    stage is bound by CPU)."""
    return sorted(months, reverse=True)


def _write_report(
    inputs: CityInputs | ProvinceInputs,
    folder: Path,
    build,
    generated_on: date,
    force: bool,
    writers: ReportWriters | None,
    complete=None,
) -> Outcome:
    """Writes the report unless it is up to date; ``complete`` reads what the fingerprint stood
    for but a report needs only when written (a city's work list rows), where it is written."""
    stem = file_stem(inputs)
    paths = [folder / f"{stem}.xlsx", folder / f"{stem}.html"]
    digest = freshness.fingerprint(inputs)
    if not force and freshness.is_up_to_date(folder, stem, digest):
        return Outcome(unchanged=paths)
    job = _Job(inputs, build, generated_on, folder, stem, digest, paths, complete)
    if writers is None:
        _write_files(job)
    else:
        writers.write(job)
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
    writers: ReportWriters | None = None,
) -> Outcome:
    """Every city's workbook and HTML twin for the month; nothing when the month has no data.
    With ``writers``, the files may still be being written when this returns: they are all
    written when ``writers`` is closed."""
    source = report_data or ReportData(con)
    outcome = Outcome()
    if not source.has_month(month):
        return outcome
    folder = report_dir(out_dir, month)
    # a worker reads a list from the warehouse file itself rather than be handed its rows
    reader = source.work_list_reader() if writers is not None and writers.in_workers else None
    complete = reader or source.with_work_list_rows
    for city in source.cities(month):
        outcome += _write_report(
            source.city_inputs(month, city, corrections),
            folder,
            city_report,
            generated_on or date.today(),
            force,
            writers,
            complete,
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
    writers: ReportWriters | None = None,
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
        writers,
    )
