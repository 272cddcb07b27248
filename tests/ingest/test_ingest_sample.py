"""The committed sample in raw/ ingests whole: every file, every row, lineage to the exact cell.

The generator's manifest (raw/manifest.json) says how many data rows each sheet holds and
where each planted defect sits (file, sheet, spreadsheet row); the ingest must agree.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from orchestration.lib.ingest.reasons import CELL_REASONS, REJECTING_CODES, ROW_REASONS, SHEET_REASONS
from orchestration.resources import REPO_ROOT
from orchestration.sources import SOURCES
from tests.support.ingest_cases import Warehouse

SAMPLE = REPO_ROOT / "raw"
MANIFEST = SAMPLE / "manifest.json"

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="no sample in raw/ (make generate-sample)")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("sample"))
    wh.raw = SAMPLE  # read the committed sample in place
    wh.ingest(workers=2)
    return wh


def test_every_file_loads(sample, manifest):
    states = dict(sample.query("select source_file, status from audit.current_files"))
    assert states == {f["path"]: "loaded" for f in manifest["files"]}


def test_every_sheet_has_its_rows(sample, manifest):
    got = Counter()
    for source in SOURCES.values():
        for source_file, sheet, n in sample.query(
            f"select source_file, sheet, count(*) from raw.{source.table} group by 1, 2"
        ):
            got[(source_file, sheet)] += n
    for source_file, sheet, n in sample.query(
        "select source_file, sheet, count(*) from audit.quarantine "
        "where reason_code = 'row_without_key_fields' group by 1, 2"
    ):
        got[(source_file, sheet)] += n
    expected = {(f["path"], s["name"]): s["data_rows"] for f in manifest["files"] for s in f["sheets"]}
    assert dict(got) == {k: v for k, v in expected.items() if v}


def test_row_accounting_adds_up(sample):
    assert (
        sample.query(
            "select source_file from audit.current_files "
            "where rows_read <> rows_loaded + rows_quarantined + rows_skipped"
        )
        == []
    )


def test_planted_defects_sit_at_their_spreadsheet_rows(sample, manifest):
    checked = 0
    for defect in manifest["defects"]:
        id_number = (defect.get("entity") or {}).get("id_number")
        if not id_number or defect.get("row_number") is None:
            continue
        table = SOURCES[defect["source"]].table
        found = sample.query(
            f"select id_number from raw.{table} where source_file = ? and sheet = ? and row_number = ?",
            [defect["source_file"], defect["sheet"], defect["row_number"]],
        )
        assert found == [(id_number,)], defect
        checked += 1
    assert checked >= 10


def test_rounded_ids_are_flagged_where_planted(sample, manifest):
    rounded = [d for d in manifest["defects"] if d["kind"] == "rounded_id_number"]
    assert rounded
    for defect in rounded:
        codes = {
            code
            for (code,) in sample.query(
                "select reason_code from audit.quarantine "
                "where source_file = ? and sheet = ? and row_number = ? and column_name = 'id_number'",
                [defect["source_file"], defect["sheet"], defect["row_number"]],
            )
        }
        assert codes & {"id_number_typed_as_number", "id_number_rounded"}, defect


def test_quarantine_holds_only_known_reasons_and_nothing_refused(sample):
    codes = {code for (code,) in sample.query("select distinct reason_code from audit.quarantine")}
    assert codes <= set(CELL_REASONS) | set(ROW_REASONS) | set(SHEET_REASONS)
    assert not codes & REJECTING_CODES


def test_second_run_is_a_no_op(sample):
    before = {s.table: sample.table_checksum(s.table) for s in SOURCES.values()}
    report = sample.ingest(workers=2)
    assert report.files_parsed == 0
    assert {o.status for o in report.outcomes} == {"unchanged"}
    assert {s.table: sample.table_checksum(s.table) for s in SOURCES.values()} == before
