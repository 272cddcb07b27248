"""Ingest is incremental and idempotent: unchanged files are not parsed, changes replace exactly
their own rows, duplicates load once, deleted files leave, a crash leaves each file whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from orchestration.lib.ingest import pipeline
from orchestration.sources import SOURCES
from tests.support.ingest_cases import Warehouse, households, write_csv, write_xlsx

HH = "household_sheets"
ALL_RAW_TABLES = tuple(source.table for source in SOURCES.values())


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    wh = Warehouse(tmp_path)
    write_xlsx(wh.file(HH, "a.xlsx"), {"S": households(3)})
    write_csv(wh.file(HH, "b.csv"), households(2), "gb18030")
    write_csv(
        wh.file("village_sheets", "v.csv"),
        [["县区", "乡镇", "行政村", "总户数"], ["康乐县", "城关镇", "村1", "9"]],
    )
    return wh


def checksums(wh: Warehouse) -> dict:
    return {t: wh.table_checksum(t) for t in ALL_RAW_TABLES} | {
        "state": wh.query(
            "select source_file, status, file_sha256, rows_loaded from audit.file_state order by 1"
        ),
        "quarantine": wh.query("select count(*), sum(hash(q)) from audit.quarantine as q"),
    }


def test_second_run_parses_nothing_and_changes_nothing(wh):
    first = wh.ingest()
    assert first.files_parsed == 3
    before = checksums(wh)
    second = wh.ingest()
    assert second.files_parsed == 0
    assert {o.status for o in second.outcomes} == {"unchanged"}
    assert checksums(wh) == before
    # the history says so: one row per file per run
    assert wh.query("select status, count(*) from audit.ingest_files group by 1 order by 1") == [
        ("loaded", 3),
        ("unchanged", 3),
    ]


def test_changed_file_replaces_exactly_its_own_rows(wh):
    wh.ingest()
    b_rows = wh.query(
        "select * from raw.household_members where source_file = 'household_sheets/b.csv' order by 1"
    )
    write_xlsx(wh.file(HH, "a.xlsx"), {"S": households(5)})
    report = wh.ingest()
    assert report.files_parsed == 1
    assert [(o.source_file, o.status) for o in report.outcomes if o.status != "unchanged"] == [
        ("household_sheets/a.xlsx", "loaded")
    ]
    assert (
        wh.one("select count(*) from raw.household_members where source_file = 'household_sheets/a.xlsx'")
        == 5
    )
    assert (
        wh.query(
            "select * from raw.household_members where source_file = 'household_sheets/b.csv' order by 1"
        )
        == b_rows
    )
    shas = wh.query(
        "select distinct file_sha256 from raw.household_members where source_file = 'household_sheets/a.xlsx'"
    )
    assert shas == [(wh.state("household_sheets/a.xlsx")["file_sha256"],)]


def test_deleted_file_is_retired_once(wh):
    wh.ingest()
    wh.file(HH, "b.csv").unlink()
    wh.ingest()
    assert (
        wh.one("select count(*) from raw.household_members where source_file = 'household_sheets/b.csv'") == 0
    )
    assert wh.state("household_sheets/b.csv")["status"] == "deleted"
    assert "household_sheets/b.csv" not in {
        r[0] for r in wh.query("select source_file from audit.current_files")
    }
    wh.ingest()
    assert (
        wh.one(
            "select count(*) from audit.ingest_files where source_file = 'household_sheets/b.csv' "
            "and status = 'deleted'"
        )
        == 1
    )
    # and it comes back when it is put back
    write_csv(wh.file(HH, "b.csv"), households(2), "gb18030")
    wh.ingest()
    assert wh.state("household_sheets/b.csv")["status"] == "loaded"


def test_duplicate_under_new_name_loads_once_and_takes_over_when_the_original_goes(wh):
    wh.ingest()
    shutil.copyfile(wh.file(HH, "a.xlsx"), wh.file(HH, "z copy of a.xlsx"))
    report = wh.ingest()
    assert report.files_parsed == 0  # recognised by its checksum, not parsed
    copy = wh.state("household_sheets/z copy of a.xlsx")
    assert (copy["status"], copy["duplicate_of"], copy["rows_loaded"]) == (
        "duplicate",
        "household_sheets/a.xlsx",
        0,
    )
    assert wh.one("select count(*) from raw.household_members") == 5
    wh.file(HH, "a.xlsx").unlink()
    wh.ingest()
    assert wh.state("household_sheets/z copy of a.xlsx")["status"] == "loaded"
    assert wh.query("select source_file, count(*) from raw.household_members group by 1 order by 1") == [
        ("household_sheets/b.csv", 2),
        ("household_sheets/z copy of a.xlsx", 3),
    ]


def test_file_changed_into_a_copy_of_another_drops_its_rows(wh):
    wh.ingest()
    shutil.copyfile(wh.file(HH, "a.xlsx"), wh.file(HH, "b.csv"))  # b now holds a's bytes
    wh.ingest()
    assert wh.state("household_sheets/b.csv")["status"] == "duplicate"
    assert wh.query("select source_file, count(*) from raw.household_members group by 1") == [
        ("household_sheets/a.xlsx", 3)
    ]


def test_broken_resend_replaces_the_good_version_and_says_why(wh):
    wh.ingest()
    wh.file(HH, "a.xlsx").write_bytes(wh.file(HH, "a.xlsx").read_bytes()[:500])  # a cut-off upload
    wh.ingest()
    state = wh.state("household_sheets/a.xlsx")
    assert state["status"] == "failed" and "[corrupt_zip]" in state["error"]
    assert (
        wh.one("select count(*) from raw.household_members where source_file = 'household_sheets/a.xlsx'")
        == 0
    )
    write_xlsx(wh.file(HH, "a.xlsx"), {"S": households(3)})  # the corrected file
    wh.ingest()
    assert wh.state("household_sheets/a.xlsx")["rows_loaded"] == 3


def test_new_reader_version_reparses_everything_with_the_same_result(wh, monkeypatch):
    wh.ingest()
    before = {
        t: wh.query(f"select * exclude (ingested_at) from raw.{t} order by source_file, row_number")
        for t in ALL_RAW_TABLES
    }
    monkeypatch.setattr(pipeline, "READER_VERSION", "test-next")
    assert wh.ingest().files_parsed == 3
    after = {
        t: wh.query(f"select * exclude (ingested_at) from raw.{t} order by source_file, row_number")
        for t in ALL_RAW_TABLES
    }
    assert after == before


def test_a_subset_of_sources_touches_only_those(wh):
    report = wh.ingest(sources=["village_statistics"])
    assert set(report.sources) == {"village_statistics"}
    assert wh.one("select count(*) from raw.household_members") == 0
    assert wh.one("select count(*) from raw.village_statistics") == 1


def test_missing_raw_folder_is_an_error_not_a_mass_deletion(wh, tmp_path):
    wh.ingest()
    with pytest.raises(FileNotFoundError, match="TRAINING_RAW_DIR"):
        pipeline.ingest_raw(tmp_path / "nowhere", wh.path, workers=1)
    assert wh.one("select count(*) from raw.household_members") == 5


def test_failure_while_writing_leaves_every_file_whole(wh, monkeypatch):
    wh.ingest()
    write_xlsx(wh.file(HH, "a.xlsx"), {"S": households(4)})
    write_csv(wh.file(HH, "b.csv"), households(6), "gb18030")
    original = pipeline._Writer._log

    def failing_log(self, plan, outcome):
        if outcome.source_file.endswith("b.csv") and outcome.status == "loaded":
            raise OSError("disk full")
        return original(self, plan, outcome)

    monkeypatch.setattr(pipeline._Writer, "_log", failing_log)
    with pytest.raises(OSError, match="disk full"):
        wh.ingest()
    # the open transaction rolled back: each file has its old rows, state and history
    for name, rows in (("a.xlsx", 3), ("b.csv", 2)):
        source_file = f"household_sheets/{name}"
        assert (
            wh.one("select count(*) from raw.household_members where source_file = ?", [source_file]) == rows
        )
        assert wh.state(source_file)["rows_loaded"] == rows
        assert wh.one("select count(*) from audit.ingest_files where source_file = ?", [source_file]) == 1
    monkeypatch.undo()
    wh.ingest()
    assert wh.query("select source_file, count(*) from raw.household_members group by 1 order by 1") == [
        ("household_sheets/a.xlsx", 4),
        ("household_sheets/b.csv", 6),
    ]


@pytest.mark.slow
def test_killed_run_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """SIGKILL during ingest: the next run completes and matches a run that was never killed."""
    killed, clean = Warehouse(tmp_path / "killed"), Warehouse(tmp_path / "clean")
    for i in range(12):
        write_csv(killed.file(HH, f"f{i:02d}.csv"), households(4000, 乡镇=f"乡{i}"))
    shutil.copytree(killed.raw, clean.raw, dirs_exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "orchestration.lib.ingest.pipeline",
        "--raw",
        str(killed.raw),
        "--warehouse",
        str(killed.path),
        "--workers",
        "2",
        "--batch-files",
        "1",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    committed = 0
    for line in process.stderr:  # a log line per transaction committed (here: per file)
        committed += "ingest committed" in line
        if committed == 3:
            break
    os.killpg(process.pid, signal.SIGKILL)  # the run and its pool, mid-way
    process.wait()
    files_before_rerun = killed.one("select count(distinct source_file) from raw.household_members")
    assert 3 <= files_before_rerun < 12  # really killed half-way, and what was committed stayed
    killed.ingest(workers=2)
    clean.ingest(workers=2)
    for table in ALL_RAW_TABLES:
        assert killed.query(f"select * exclude (ingested_at) from raw.{table} order by all") == clean.query(
            f"select * exclude (ingested_at) from raw.{table} order by all"
        )
    assert killed.one("select count(*) from raw.household_members") == 12 * 4000
