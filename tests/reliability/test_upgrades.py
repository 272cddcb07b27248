"""Upgrades of inputs: offices change their sheets between two sends, and ingest does what users expect.

- a new column nobody registered: the rows load as before, the column is reported (not loaded),
  the run and its check pass;
- a renamed sheet, a renamed or moved file: the same rows, once, under the new name;
- a corrected file sent again: its old rows and their quarantine entries are replaced by the
  new ones, and the audit history shows both versions.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.defs.ingest.assets import ingest_check_result
from tests.support.bad_input_files import VILLAGE, village
from tests.support.ingest_cases import (
    HOUSEHOLD_HEADERS,
    Warehouse,
    household_row,
    households,
    table,
    write_xlsx,
)

HH, VIL = "household_sheets", "village_sheets"
# What a household row says, without where and when it was read.
MEMBER_COLUMNS = "county, township, village, household_number, member_name, id_number, collected_on"


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    return Warehouse(tmp_path)


def members(wh: Warehouse, source_file: str | None = None) -> list[tuple]:
    where, params = ("where source_file = ?", [source_file]) if source_file else ("", [])
    return wh.query(f"select {MEMBER_COLUMNS} from raw.household_members {where} order by all", params)


def check_passes(wh: Warehouse, source: str) -> bool:
    with duckdb.connect(str(wh.path), read_only=True) as con:
        return ingest_check_result(con, source).passed


def test_a_new_unregistered_column_is_reported_and_the_rows_load_as_before(wh):
    source_file = f"{HH}/康乐县城关镇.xlsx"
    write_xlsx(wh.file(HH, "康乐县城关镇.xlsx"), {"户表": households(3)})
    wh.ingest()
    before = members(wh)

    headers = [*HOUSEHOLD_HEADERS[:8], "微信号", *HOUSEHOLD_HEADERS[8:]]  # inserted mid-sheet
    rows = [household_row(i) | {"微信号": f"wx{i}"} for i in range(3)]
    write_xlsx(wh.file(HH, "康乐县城关镇.xlsx"), {"户表": table(headers, rows)})
    report = wh.ingest()

    assert [(o.source_file, o.status) for o in report.outcomes] == [(source_file, "loaded")]
    assert members(wh) == before  # the same rows, once, every known column still in its place
    assert [(q[1], q[2], q[3], q[4]) for q in wh.quarantine(source_file)] == [
        (1, None, "微信号", "unknown_column")
    ]
    assert check_passes(wh, "household_members")  # reported, not refused


def test_a_renamed_sheet_keeps_the_same_rows_once(wh):
    source_file = f"{HH}/户表.xlsx"
    write_xlsx(wh.file(HH, "户表.xlsx"), {"户级采集表": households(3)})
    wh.ingest()
    before = members(wh)
    write_xlsx(wh.file(HH, "户表.xlsx"), {"Sheet1": households(3)})
    wh.ingest()
    assert members(wh) == before
    assert wh.query(
        "select distinct sheet from raw.household_members where source_file = ?", [source_file]
    ) == [("Sheet1",)]
    assert wh.state(source_file)["rows_loaded"] == 3


def test_a_renamed_or_moved_file_keeps_the_same_rows_once(wh):
    write_xlsx(wh.file(HH, "户表.xlsx"), {"S": households(3)})
    wh.ingest()
    before = members(wh)
    moved = wh.file(HH, "2015/户表（终版）.xlsx")
    moved.parent.mkdir()
    shutil.move(wh.file(HH, "户表.xlsx"), moved)
    wh.ingest()
    assert members(wh) == before
    assert wh.state(f"{HH}/户表.xlsx")["status"] == "deleted"
    assert wh.state(f"{HH}/2015/户表（终版）.xlsx")["status"] == "loaded"


def test_a_corrected_file_sent_again_replaces_its_rows_and_the_audit_keeps_both_versions(wh):
    source_file = f"{VIL}/康乐县村级采集表.xlsx"
    path = wh.file(VIL, "康乐县村级采集表.xlsx")
    first_rows = [village(0, 贫困户数=-40), village(1, 总人口="四百八"), village(2)]
    write_xlsx(path, {"S": table(VILLAGE, first_rows)})
    wh.ingest()
    first_sha = wh.state(source_file)["file_sha256"]
    assert wh.codes(source_file) == {"negative_number", "not_a_number"}

    corrected = [
        village(0, 贫困户数=40),
        village(1, 总人口=480),
        village(2),
        village(3),
    ]  # and a village more
    write_xlsx(path, {"S": table(VILLAGE, corrected)})
    wh.ingest()

    assert wh.query(
        "select village, poor_households, total_population from raw.village_statistics order by row_number"
    ) == [("村0", "40", "480"), ("村1", "40", "480"), ("村2", "40", "480"), ("村3", "40", "480")]
    assert wh.quarantine(source_file) == []  # the first version's problems left with its rows
    history = wh.query(
        "select status, file_sha256, rows_loaded, rows_quarantined from audit.ingest_files "
        "where source_file = ? order by ingested_at",
        [source_file],
    )
    second_sha = wh.state(source_file)["file_sha256"]
    assert first_sha != second_sha
    assert history == [("loaded", first_sha, 3, 0), ("loaded", second_sha, 4, 0)]


def test_a_correction_under_a_new_name_with_the_old_file_removed_replaces_it(wh):
    write_xlsx(wh.file(VIL, "村表.xlsx"), {"S": table(VILLAGE, [village(0, 贫困户数=-40)])})
    wh.ingest()
    wh.file(VIL, "村表.xlsx").unlink()
    write_xlsx(wh.file(VIL, "村表（更正）.xlsx"), {"S": table(VILLAGE, [village(0)])})
    wh.ingest()
    assert wh.query("select source_file, poor_households from raw.village_statistics") == [
        (f"{VIL}/村表（更正）.xlsx", "40")
    ]
    assert wh.query("select source_file from audit.quarantine") == []
    assert wh.state(f"{VIL}/村表.xlsx")["status"] == "deleted"


def test_a_correction_beside_the_old_file_loads_both_and_says_nothing_in_ingest(wh):
    """Not guaranteed: ingest cannot know that a new file supersedes an old one it does not
    duplicate byte for byte. Both load; dbt's duplicate checks are what flag the overlap."""
    write_xlsx(wh.file(VIL, "村表.xlsx"), {"S": table(VILLAGE, [village(0, 贫困户数=-40)])})
    write_xlsx(wh.file(VIL, "村表（更正）.xlsx"), {"S": table(VILLAGE, [village(0)])})
    wh.ingest()
    assert wh.one("select count(*) from raw.village_statistics") == 2
    assert {s for (s,) in wh.query("select status from audit.file_state")} == {"loaded"}
