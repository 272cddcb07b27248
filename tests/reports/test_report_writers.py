"""Reports written by worker processes exactly as here, a worker reading the work list it writes;
the reports that carry a work list judged up to date by a digest of the list without reading its
rows."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.reports import data
from orchestration.lib.reports.builder import (
    Outcome,
    ReportWriteError,
    ReportWriters,
    _Job,
    write_city_reports,
    write_province_summary,
)

GENERATED_ON = date(2016, 1, 4)


def latest_month(warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return max(data.data_months(con))


def write(warehouse: Path, out: Path, months: list[str], writers: ReportWriters | None) -> Outcome:
    """The cities' reports and the province summary of each month, as the assets write them."""
    outcome = Outcome()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        source = data.ReportData(con)
        for month in months:
            for write_month in (write_city_reports, write_province_summary):
                outcome += write_month(con, month, out, GENERATED_ON, report_data=source, writers=writers)
    return outcome


def parts(path: Path) -> dict[str, bytes]:
    """A workbook's parts but the one that records when it was written."""
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


class RecordingWriters(ReportWriters):
    """Worker processes that keep a list of the jobs handed to them."""

    def __init__(self, workers: int):
        super().__init__(workers)
        self.jobs: list[_Job] = []

    def write(self, job: _Job) -> None:
        self.jobs.append(job)
        super().write(job)


def test_workers_write_the_same_files_as_this_process(sample_build, tmp_path):
    """The latest month (its city reports carry work lists), the first (none do) and their
    province summaries."""
    warehouse = sample_build.settings.warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        source = data.ReportData(con)
        first, *_, month = data.data_months(con)
        carrying = [c for c in source.cities(month) if source.city_inputs(month, c).work_list]
        assert not any(source.city_inputs(first, c).work_list for c in source.cities(first))
    assert carrying, "no city report of the latest month carries a work list: nothing for the workers"

    here = write(warehouse, tmp_path / "here", [first, month], None)
    with RecordingWriters(2) as writers:
        there = write(warehouse, tmp_path / "workers", [first, month], writers)
    assert {p.parent.name for p in there.written} == {first, month}
    # a list is handed over as what reads it, not as its rows: the worker reads it from the file
    handed = [job for job in writers.jobs if getattr(job.inputs, "work_list", None)]
    assert len(handed) == len(carrying)
    for job in handed:
        assert job.inputs.work_list.rows is None
        assert job.complete == data.WorkListReader(str(warehouse))

    def relative(outcome: Outcome, root: Path) -> list[Path]:
        return sorted(p.relative_to(root) for p in outcome.written)

    assert relative(here, tmp_path / "here") == relative(there, tmp_path / "workers")
    for name in relative(here, tmp_path / "here"):
        a, b = tmp_path / "here" / name, tmp_path / "workers" / name
        if name.suffix == ".xlsx":
            assert parts(a) == parts(b), name
        else:
            assert a.read_bytes() == b.read_bytes(), name
    records = sorted((tmp_path / "here").glob("*/.fingerprints/*"))
    assert len(records) == len(here.written) // 2
    assert [p.read_text() for p in records] == [
        (tmp_path / "workers" / p.relative_to(tmp_path / "here")).read_text() for p in records
    ]
    for city in carrying:
        assert (tmp_path / "workers" / month / f"{city.code}_{city.name}.xlsx").is_file()


def _fail(inputs, generated_on):
    raise RuntimeError(f"layout failed for {inputs.city.code}")


def test_a_report_that_fails_in_a_worker_fails_the_run(sample_build, tmp_path):
    warehouse = sample_build.settings.warehouse
    month = latest_month(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        source = data.ReportData(con)
        city = source.cities(month)[0]
        inputs = source.with_work_list_rows(source.city_inputs(month, city))
    stem = f"{city.code}_{city.name}"
    job = _Job(inputs, _fail, GENERATED_ON, tmp_path, stem, "digest", [tmp_path / f"{stem}.xlsx"])
    failure = f"{stem}.xlsx: not written: RuntimeError: layout failed for {city.code}"
    with pytest.raises(ReportWriteError, match=failure), ReportWriters(2) as writers:
        writers.write(job)
    assert not list(tmp_path.iterdir())  # no file, no fingerprint: the next run writes it again


def test_a_name_on_a_work_list_rewrites_that_city_only_and_reads_no_other_list(
    sample_build, tmp_path, monkeypatch
):
    warehouse = tmp_path / "training.duckdb"
    shutil.copyfile(sample_build.settings.warehouse, warehouse)
    month = latest_month(warehouse)
    out = tmp_path / "reports"
    first = write(warehouse, out, [month], None)

    read: list[str] = []
    read_work_list = data.read_work_list

    def counted(con, year, city_code):
        read.append(city_code)
        return read_work_list(con, year, city_code)

    monkeypatch.setattr(data, "read_work_list", counted)
    assert write(warehouse, out, [month], None).written == []
    assert read == []  # nothing changed: no list read to know it

    # a name corrected in a household sheet: the mart's rows stay, the list shows the new name
    with duckdb.connect(str(warehouse)) as con:
        trainee_key, city_code = con.execute(
            "select trainee_key, city_code from marts.mart_village_work_list "
            "where year = ? order by trainee_key limit 1",
            [int(month[:4])],
        ).fetchone()
        con.execute(
            "update staging.int_household_members_resolved set member_name = member_name || '（更正）' "
            "where trainee_key = ? and is_latest_registration",
            [trainee_key],
        )
    second = write(warehouse, out, [month], None)
    assert {p.name for p in second.written} == {
        p.name for p in first.written if p.name.startswith(city_code)
    } and len(second.written) == 2
    assert read == [city_code]
    page = next(p for p in second.written if p.suffix == ".html").read_text(encoding="utf-8")
    assert "（更正）" in page
