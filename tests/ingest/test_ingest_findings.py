"""Issue 12 (reports part): a file, sheet or row the ingest could not load reaches the county.

Fast tests on real DuckDB files and real workbooks; one slow end-to-end `make run` on a copy of
the sample with a truncated county ledger and a ledger row whose 培训项目 is blank at an expired
institution (a row that once gave a finding without detail and stopped publication).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.cli.build_state import source_fingerprints
from orchestration.cli.run import failed_files_line
from orchestration.lib.ingest.audit import ensure_schema
from orchestration.lib.ingest.reasons import SHEET_REASONS
from orchestration.lib.quality.catalog import CHECKS
from orchestration.lib.reports import data
from orchestration.lib.reports.content import (
    NOT_LOADED_SHEET,
    city_report,
    not_loaded_by_city_table,
    province_report,
    split_detail,
)
from orchestration.lib.reports.workbook import write_workbook
from orchestration.resources import REPO_ROOT, Settings
from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import run_env, run_pipeline

LEDGERS = "training_ledgers"
CORRUPT = f"{LEDGERS}/康乐县2015年精准扶贫培训台账（补报）.xlsx"


def _finding(check: str, entity: str, sheet: str | None = None, row: int | None = None, **extra) -> dict:
    return {
        "check_name": check, "severity": "error", "city_code": "622900", "county_code": "622922",
        "county_name": "康乐县", "township": None, "village": None, "source_file": CORRUPT, "sheet": sheet,
        "row_number": row, "entity_key": entity, "programme_code": None, "period": "2015-01",
        "as_of_month": date(2015, 1, 1), "is_new": False,
        "detail": "整个文件未能导入：文件已损坏或不完整。处理办法：请重新导出后报送",
        "finding_key": entity, "check_title_zh": "", "check_order": 0, **extra,
    }  # fmt: skip


def test_every_check_name_is_in_the_findings_suite():
    suite = json.loads((REPO_ROOT / "expectations" / "findings.json").read_text(encoding="utf-8"))
    (names,) = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "check_name" and e["type"] == "expect_column_values_to_be_in_set"
    ]
    assert names == [check.name for check in CHECKS]
    findings_sql = (REPO_ROOT / "dbt_project/models/dq/findings.sql").read_text(encoding="utf-8")
    listed = re.findall(r"ref\('([a-z_]+)'\)", findings_sql[: findings_sql.index("] %}")])
    assert sorted(listed) == sorted(names)


def test_only_personal_data_and_a_broken_contract_block_the_findings_suite():
    suite = json.loads((REPO_ROOT / "expectations" / "findings.json").read_text(encoding="utf-8"))
    blocking = {
        (e["type"], e["kwargs"]["column"]) for e in suite["expectations"] if e.get("severity") == "critical"
    }
    assert ("expect_column_values_to_not_be_null", "detail") not in blocking
    assert ("expect_column_values_to_not_be_null", "entity_key") not in blocking
    assert ("expect_column_values_to_be_unique", "finding_key") not in blocking
    assert {col for kind, col in blocking if kind == "expect_column_values_to_not_match_regex"} == {
        "detail",
        "entity_key",
        "source_file",
    }


def test_the_row_model_leaves_out_every_sheet_level_code():
    sql = (REPO_ROOT / "dbt_project/models/dq/ingest/ingest_problems.sql").read_text(encoding="utf-8")
    block = re.search(r"set sheet_level_codes = \[(.*?)\]", sql, re.S).group(1)
    assert set(re.findall(r"'([a-z_]+)'", block)) == set(SHEET_REASONS) | {"hidden_sheet"}


def test_detail_splits_into_reason_and_what_to_do():
    assert split_detail("工作表“A”未能导入：缺少列。处理办法：请补上该列") == (
        "缺少列",
        "请补上该列",
    )
    assert split_detail(None) == ("", "")


def test_city_workbook_lists_what_was_not_loaded(tmp_path):
    now = [
        _finding("file_not_loaded", CORRUPT),
        _finding("row_not_loaded", f"{CORRUPT} · Sheet1 · 7", sheet="Sheet1", row=7,
                 detail="第 7 行未能导入：整行缺少必填项。处理办法：请补全该行后重新报送"),
    ]  # fmt: skip
    inputs = data.CityInputs("2015-09", data.City("622900", "临夏回族自治州"), [("622922", "康乐县")],
                             now, now, [], {})  # fmt: skip
    path = write_workbook(city_report(inputs, date(2015, 10, 1)), tmp_path / "city.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in book[NOT_LOADED_SHEET].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "序号")
    assert rows[header][:8] == ["序号", "县区", "类型", "来源文件", "工作表", "行号", "原因", "处理办法"]
    assert rows[header + 1][1:8] == ["康乐县", "整个文件", CORRUPT, None, None,
                                     "文件已损坏或不完整", "请重新导出后报送"]  # fmt: skip
    assert rows[header + 2][2:6] == ["数据行", CORRUPT, "Sheet1", 7]
    assert "文件或工作表未能导入" not in book.sheetnames  # not repeated as a check sheet


def test_province_counts_per_city_and_the_unattributed():
    now = [
        {"check_name": "file_not_loaded", "severity": "error", "city_code": "622900", "is_new": False},
        {"check_name": "row_not_loaded", "severity": "error", "city_code": "622900", "is_new": False},
        {"check_name": "file_not_loaded", "severity": "error", "city_code": None, "is_new": False},
    ]
    table = not_loaded_by_city_table(now, [("620700", "张掖市"), ("622900", "临夏回族自治州")])
    assert table.rows == [
        ["张掖市", 0, 0, 0],
        ["临夏回族自治州", 1, 1, 2],
        ["（未能归属市州，由省级处理）", 1, 0, 1],
    ]
    assert table.total_row == ["合计", 2, 1, 3]
    inputs = data.ProvinceInputs("2015-09", [data.City("622900", "临夏回族自治州")], now, now, [])
    titles = [t.title for t in province_report(inputs, date(2015, 10, 1)).sheets[0].tables]
    assert f"{NOT_LOADED_SHEET}：按市州" in titles


def _audit_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    ensure_schema(con)
    return con


def _fail(con: duckdb.DuckDBPyConnection, source_file: str, sha: str = "abc") -> None:
    con.execute(
        "insert into audit.file_state (source_file, source, file_sha256, status, error, run_id, changed_at) "
        "values (?, 'training_records', ?, 'failed', '文件已损坏 [corrupt_zip]', 'r1', now())",
        [source_file, sha],
    )


def test_a_failed_file_changes_its_sources_fingerprint(tmp_path):
    with _audit_warehouse(tmp_path / "w.duckdb") as con:
        before = source_fingerprints(con)
        _fail(con, CORRUPT)
        after = source_fingerprints(con)
        con.execute("update audit.file_state set file_sha256 = 'def'")
        resent = source_fingerprints(con)
    assert {k for k in after if after[k] != before[k]} == {"training_records"}
    assert resent["training_records"] != after["training_records"]


def test_the_last_line_counts_and_names_failed_files(tmp_path):
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "warehouse": tmp_path / "w.duckdb"})
    assert failed_files_line(settings) == "files failed to load: 0"
    with _audit_warehouse(settings.warehouse) as con:
        _fail(con, CORRUPT)
    assert failed_files_line(settings) == f"files failed to load: 1 ({CORRUPT})"
    with _audit_warehouse(settings.warehouse) as con:
        for i in range(6):
            _fail(con, f"{LEDGERS}/坏文件{i}.xlsx")
    line = failed_files_line(settings)
    assert line.startswith("files failed to load: 7 (") and "audit.current_files" in line


# --- end to end ----------------------------------------------------------------------------------


def plant(raw: Path) -> None:
    """A truncated county ledger, and a ledger row with blank 培训项目 at an expired institution."""
    ledgers = raw / LEDGERS
    whole = (ledgers / "临夏市农牧局2015年精准扶贫劳动力培训实名制台账.xlsx").read_bytes()
    (raw / CORRUPT).write_bytes(whole[: len(whole) // 2])
    path = ledgers / "临夏市人社局2015年精准扶贫劳动力培训实名制台账.csv"
    text = path.read_bytes()
    encoding = "utf-8-sig" if text.startswith(b"\xef\xbb\xbf") else "gb18030"
    rows = list(csv.reader(io.StringIO(text.decode(encoding))))
    column = next(r for r in rows if "培训项目" in r).index("培训项目")
    rows[64][column] = ""  # line 65: a course at an institution whose qualification had expired
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def why(output: str) -> str:
    """The lines of a run's output that say what failed, then its end."""
    failures = [line for line in output.splitlines() if "Failure in" in line or "STEP_FAILURE" in line]
    return "\n".join(failures[:10]) + "\n...\n" + output[-1500:]


@pytest.mark.slow
def test_a_corrupt_county_ledger_is_counted_and_explained_and_nothing_is_blocked(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    plant(raw)
    env = run_env(tmp_path, raw)
    first = run_pipeline(env)
    assert first.returncode == 0, why(first.output)
    assert first.output.rstrip().splitlines()[-1] == f"files failed to load: 1 ({CORRUPT})"
    warehouse, snapshot = Path(env["TRAINING_WAREHOUSE"]), Path(env["TRAINING_ANALYTICS_DB"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select status from audit.ingest_files where source_file = ?", [CORRUPT]
        ).fetchall() == [("failed",)]
        cities = [
            c
            for (c,) in con.execute(
                "select distinct city_code from dq.findings where city_code is not null"
            ).fetchall()
        ]
    assert snapshot.exists()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        found = con.execute(
            "select county_code, city_code, detail from dq.findings where check_name = 'file_not_loaded'"
        ).fetchall()
    assert [(county, city) for county, city, _ in found] == [("622922", "622900")]
    assert "处理办法：请" in found[0][2]
    months = sorted(p for p in Path(env["TRAINING_REPORTS_DIR"]).iterdir() if p.is_dir())
    latest = months[-1]
    for city in cities:  # every city's report published
        assert list(latest.glob(f"{city}_*.xlsx")) and list(latest.glob(f"{city}_*.html")), city
    (linxia,) = latest.glob("622900_*.xlsx")
    rows = [
        list(r)
        for r in openpyxl.load_workbook(linxia, read_only=True)[NOT_LOADED_SHEET].iter_rows(values_only=True)
    ]
    assert any(CORRUPT in row and "康乐县" in row for row in rows)
    assert CORRUPT in (latest / "622900_临夏回族自治州.html").read_text(encoding="utf-8")
    stamp = linxia.stat().st_mtime_ns

    # A second corrupt file, in another source, without any new row: rebuilt and reported.
    second = raw / "task_allocations" / "肃南县2015年培训任务分解表（修订）.xlsx"
    second.write_bytes(b"PK\x03\x04 not really a workbook")
    again = run_pipeline(env)
    assert again.returncode == 0, why(again.output)
    assert "plan: changed" in again.output
    assert again.output.rstrip().splitlines()[-1].startswith("files failed to load: 2 (")
    with duckdb.connect(str(snapshot), read_only=True) as con:
        places = con.execute(
            "select county_code, city_code from dq.findings "
            "where check_name = 'file_not_loaded' and source_file = ?",
            ["task_allocations/" + second.name],
        ).fetchall()
    assert places == [("620721", "620700")]  # 肃南, by the name in the path
    (zhangye,) = latest.glob("620700_*.xlsx")
    assert any(
        second.name in str(cell)
        for row in openpyxl.load_workbook(zhangye, read_only=True)[NOT_LOADED_SHEET].iter_rows(
            values_only=True
        )
        for cell in row
    )
    assert linxia.stat().st_mtime_ns == stamp  # 临夏's report did not change
