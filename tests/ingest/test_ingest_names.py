"""File names that are not UTF-8: the GBK names offices on Chinese Windows write.

On Linux such a name arrives as a str with surrogate escapes, which DuckDB cannot store. Ingest
stores it decoded as GB18030 (``source_file``) with its exact bytes escaped beside it
(``source_file_bytes``), and the next run sees the same file as unchanged, not deleted and new.
These tests put real GBK-named files on disk (bytes paths), at the top of a source folder and
in a GBK-named sub-folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest.audit import ensure_schema
from orchestration.lib.ingest.pipeline import display_name
from tests.support.ingest_cases import Warehouse, households, write_csv, write_xlsx

FOLDER = "household_sheets"
LEDGER = "康乐县台账.xlsx"
SUB = "城关镇"
CSV = "户表 最终.csv"


def gbk(text: str) -> bytes:
    return text.encode("gbk")


def escaped(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def gbk_path(wh: Warehouse, *parts: str) -> Path:
    """The real on-disk path of raw/<FOLDER>/<parts in GBK> (a str with surrogate escapes)."""
    raw = os.fsencode(wh.raw / FOLDER)
    for part in parts:
        raw = os.path.join(raw, gbk(part))
    return Path(os.fsdecode(raw))


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    wh = Warehouse(tmp_path)
    write_xlsx(gbk_path(wh, LEDGER), {"户表": households(3)})
    write_csv(gbk_path(wh, SUB, CSV), households(2), "gb18030")
    write_xlsx(wh.file(FOLDER, "good.xlsx"), {"S": households(1)})
    # the names really are not UTF-8 on disk
    names = os.listdir(os.fsencode(wh.raw / FOLDER))
    assert gbk(LEDGER) in names and gbk(SUB) in names
    with pytest.raises(UnicodeDecodeError):
        gbk(LEDGER).decode("utf-8")
    return wh


def test_display_name_is_gb18030_and_bytes_are_kept_escaped():
    name = os.fsdecode(gbk(f"{FOLDER}/{LEDGER}"))
    assert display_name(name) == (f"{FOLDER}/{LEDGER}", escaped(gbk(f"{FOLDER}/{LEDGER}")))
    assert display_name(f"{FOLDER}/{LEDGER}") == (f"{FOLDER}/{LEDGER}", None)  # UTF-8: as it is


def test_gbk_named_files_load_under_their_chinese_names(wh):
    report = wh.ingest(workers=2)  # through the process pool (the path crosses to a worker)
    assert {o.status for o in report.outcomes} == {"loaded"}
    top, nested = f"{FOLDER}/{LEDGER}", f"{FOLDER}/{SUB}/{CSV}"
    assert wh.state(top)["rows_loaded"] == 3
    assert wh.state(nested)["rows_loaded"] == 2
    assert wh.query("select source_file, source_file_bytes from audit.ingest_files order by source_file") == [
        (f"{FOLDER}/good.xlsx", None),
        (nested, escaped(gbk(nested))),
        (top, escaped(gbk(top))),
    ]
    assert wh.query(
        "select source_file, source_file_bytes from audit.file_state where source_file_bytes is not null "
        "order by 1"
    ) == [(nested, escaped(gbk(nested))), (top, escaped(gbk(top)))]
    assert wh.query("select source_file, count(*) from raw.household_members group by 1 order by 1") == [
        (f"{FOLDER}/good.xlsx", 1),
        (nested, 2),
        (top, 3),
    ]
    # the escaped bytes lead back to the exact file on disk
    kept = wh.one("select source_file_bytes from audit.file_state where source_file = ?", [top])
    path = os.path.join(os.fsencode(wh.raw), kept.encode("ascii").decode("unicode_escape").encode("latin-1"))
    assert os.path.isfile(path)


def test_next_run_sees_them_unchanged_and_a_removal_as_deleted(wh):
    wh.ingest()
    before = wh.table_checksum("household_members")
    again = wh.ingest()
    assert {o.status for o in again.outcomes} == {"unchanged"}
    assert again.files_parsed == 0
    assert wh.table_checksum("household_members") == before
    os.remove(gbk_path(wh, LEDGER))
    after = wh.ingest()
    assert {(o.source_file, o.status) for o in after.outcomes if o.status != "unchanged"} == {
        (f"{FOLDER}/{LEDGER}", "deleted")
    }
    assert (
        wh.one("select count(*) from raw.household_members where source_file = ?", [f"{FOLDER}/{LEDGER}"])
        == 0
    )
    deleted = wh.query("select source_file_bytes from audit.ingest_files where status = 'deleted'")
    assert deleted == [(escaped(gbk(f"{FOLDER}/{LEDGER}")),)]


def test_same_name_in_utf8_and_gbk_keeps_two_files_apart(wh):
    """The same name saved once in UTF-8 and once in GBK: two files, two audit rows."""
    write_xlsx(wh.file(FOLDER, LEDGER), {"户表": households(4)})
    wh.ingest()
    gbk_key = f"{FOLDER}/{LEDGER} [{escaped(gbk(f'{FOLDER}/{LEDGER}'))}]"
    assert wh.state(f"{FOLDER}/{LEDGER}")["rows_loaded"] == 4  # the UTF-8 name keeps its own name
    assert wh.state(gbk_key)["rows_loaded"] == 3
    assert {o.status for o in wh.ingest().outcomes} == {"unchanged"}


def test_a_bad_gbk_named_file_fails_with_a_readable_error(wh):
    gbk_path(wh, "坏文件.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    report = wh.ingest()
    state = wh.state(f"{FOLDER}/坏文件.xlsx")
    assert state["status"] == "failed" and state["error"]
    assert sum(o.status == "loaded" for o in report.outcomes) == 3


def test_an_old_warehouse_gains_the_bytes_column(wh):
    """A warehouse made before the column existed is altered on open and keeps working."""
    wh.ingest()
    with duckdb.connect(str(wh.path)) as con:
        con.execute("drop view audit.current_files")
        for table in ("ingest_files", "file_state"):
            con.execute(f"alter table audit.{table} drop column source_file_bytes")
        ensure_schema(con)
        columns = con.execute(
            "select table_name from duckdb_columns() where schema_name = 'audit' "
            "and column_name = 'source_file_bytes' order by 1"
        ).fetchall()
    assert columns == [("file_state",), ("ingest_files",)]
    assert {o.status for o in wh.ingest().outcomes} == {"unchanged"}
