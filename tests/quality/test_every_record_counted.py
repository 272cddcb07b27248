"""Issue 12, "Every record counted or explained, and no single file stops the province's update":
its "Done when" cases, on ONE copy of the sample raw folder and ONE `python -m orchestration.run`.

The cases, each in its own file or rows so that each assertion looks at its own case:
(a) a ledger whose file name is GBK bytes, not UTF-8 (康乐县台账（补报）.xlsx);
(b) a row with a blank 培训项目 at an institution whose qualification had expired;
(c) a hidden sheet 旧版(勿用) with old rows beside the real, visible ledger sheet;
(d) a county (临夏县) with ledger rows but no row in the task allocation;
(e) an unknown programme (阳光工程培训) and a blank programme;
(f) a blank 开班日期;
(g) a truncated .xlsx named after 康乐县.

For each: the run exits 0 and publishes the snapshot and every city report; the case shows in
audit.*, in dq.findings and in the city report; and every ledger row is counted or explained.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest
from stdnum.cn import ric

from orchestration.lib.quality.catalog import CHECK_BY_NAME, SEVERITY_ZH
from orchestration.sources import TRAINING_RECORDS
from tests.conftest import SAMPLE_RAW_DIR
from tests.support.record_accounting import (
    NOT_LOADED_SHEET,
    audit_problems,
    city_report,
    failed_files_line,
    outcome_problems,
    publish_problems,
    report_has_row,
    report_sheets,
)
from tests.support.reliability_helpers import RunOutcome, run_env, run_pipeline

LEDGERS = "training_ledgers"
LINXIA_ZHOU = "622900"  # 临夏回族自治州: 临夏市, 临夏县 and 康乐县
HEADERS = [c.header for c in TRAINING_RECORDS.columns]
FIRST_DATA_ROW = 3  # row 1 the title, row 2 the header

GBK_NAME = "康乐县台账（补报）.xlsx"
EXTRA = f"{LEDGERS}/2015年培训台账补充（康乐县）.xlsx"
NO_TASK = f"{LEDGERS}/临夏县2015年精准扶贫培训实名制台账.xlsx"
WITH_HIDDEN = f"{LEDGERS}/临夏市农牧局2015年精准扶贫劳动力培训实名制台账.xlsx"
HIDDEN_SHEET = "旧版(勿用)"
CORRUPT = f"{LEDGERS}/康乐县2015年12月培训台账（补报）.xlsx"
EXPIRED_INSTITUTION = "临夏市新希望技能培训有限公司"  # roster: qualification valid until 2015-07-30


def id_number(region: str, birth: str, sequence: int) -> str:
    """A valid 18-character ID (check character computed), unknown to the household sheets."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body)


def ledger_row(county: str, name: str, id_no: str, programme: str, start: str, **extra) -> dict:
    row = {
        "县区": county,
        "乡镇": extra.pop("township", "城关镇"),
        "行政村": extra.pop("village", "新建村"),
        "姓名": name,
        "身份证号码": id_no,
        "培训项目": programme,
        "培训工种": extra.pop("trade", "焊工"),
        "培训机构": extra.pop("institution", "康乐县技工学校"),
        "开班日期": start,
        "结业日期": extra.pop("end", ""),
        "培训天数": extra.pop("days", 16),
        "是否结业": "是",
    }
    row.update(extra)
    return row


def write_ledger(path: Path, title: str, rows: list[dict]) -> None:
    """A ledger as offices send it: a title row, the canonical header, the rows (openpyxl)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "培训台账"
    sheet.append([title])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row.get(h, "") or None for h in HEADERS])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


# The rows of the supplement file, by case; row numbers follow from their order.
EXTRA_ROWS = {
    "blank_programme_expired_institution": ledger_row(
        "临夏市",
        "马文学",
        id_number("622901", "19850304", 901),
        "",
        "2015-09-10",
        institution=EXPIRED_INSTITUTION,
        end="2015-09-25",
    ),
    "unknown_programme": ledger_row(
        "康乐县",
        "苏玉兰",
        id_number("622922", "19800612", 902),
        "阳光工程培训",
        "2015-06-03",
        end="2015-06-20",
    ),
    "blank_programme": ledger_row(
        "康乐县", "何建国", id_number("622922", "19790101", 903), "", "2015-06-10", end="2015-06-27"
    ),
    "blank_start_date": ledger_row(
        "康乐县", "杨春花", id_number("622922", "19900405", 904), "就业技能培训", "", end="2015-06-20"
    ),
}
EXTRA_ROW_NUMBER = {case: FIRST_DATA_ROW + i for i, case in enumerate(EXTRA_ROWS)}


def add_hidden_sheet(path: Path) -> int:
    """Add a hidden sheet of old rows (header + the visible sheet's rows dated 2014) to the
    workbook; returns its non-blank row count."""
    book = openpyxl.load_workbook(path)
    visible = book.worksheets[0]
    rows = [list(r) for r in visible.iter_rows(values_only=True) if any(v not in (None, "") for v in r)]
    header_at = next(i for i, r in enumerate(rows) if "姓名" in r)
    old = book.create_sheet(HIDDEN_SHEET)
    old.append(rows[header_at])
    for row in rows[header_at + 1 :]:
        old.append([v.replace("2015-", "2014-") if isinstance(v, str) else v for v in row])
    old.sheet_state = "hidden"
    book.save(path)
    return len(rows) - header_at


@dataclass
class Built:
    root: Path
    raw: Path
    run: RunOutcome
    warehouse: Path
    hidden_rows: int
    gbk_bytes: bytes


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("every_record")
    raw = root / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    (raw / "manifest.json").unlink(missing_ok=True)  # the generator's ground truth, not an input

    # (a) a file name in GBK bytes: written under a UTF-8 name, then renamed with bytes
    gbk_bytes = GBK_NAME.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        gbk_bytes.decode("utf-8")
    plain = raw / LEDGERS / "gbk_case.xlsx"
    write_ledger(
        plain,
        "康乐县2015年精准扶贫劳动力培训实名制台账（补报）",
        [
            ledger_row(
                "康乐县", "冯志强", id_number("622922", "19870921", 905), "就业技能培训", "2015-11-05"
            ),
            ledger_row(
                "康乐县", "罗彩霞", id_number("622922", "19920215", 906), "就业技能培训", "2015-11-05"
            ),
        ],
    )
    os.rename(bytes(plain), bytes(raw / LEDGERS) + b"/" + gbk_bytes)

    # (b), (e), (f): rows of one supplement file
    write_ledger(raw / EXTRA, "2015年精准扶贫劳动力培训实名制台账（补充）", list(EXTRA_ROWS.values()))
    # (c) a hidden sheet beside the real ledger
    hidden_rows = add_hidden_sheet(raw / WITH_HIDDEN)
    # (d) 临夏县 has no row in the task allocation
    place = {"township": "韩集镇", "village": "双城村", "institution": "临夏县职业技术学校"}
    people = (("韩永福", "19830517", 907), ("韩丽娟", "19860808", 908))
    write_ledger(
        raw / NO_TASK,
        "临夏县2015年精准扶贫劳动力培训实名制台账",
        [
            ledger_row("临夏县", name, id_number("622921", birth, n), "就业技能培训", "2015-07-01", **place)
            for name, birth, n in people
        ],
    )
    # (g) a transfer cut off half-way
    whole = (SAMPLE_RAW_DIR / WITH_HIDDEN).read_bytes()
    (raw / CORRUPT).write_bytes(whole[: len(whole) // 2])

    run = run_pipeline(run_env(root, raw))
    (root / "run.log").write_text(run.output, encoding="utf-8")  # for whoever reads a failure
    return Built(root, raw, run, root / "warehouse" / "training.duckdb", hidden_rows, gbk_bytes)


def query(built: Built, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def checks_at(built: Built, source_file: str, row_number: int) -> set[str]:
    return {
        c
        for (c,) in query(
            built,
            "select check_name from dq.findings where source_file = ? and row_number = ?",
            [source_file, row_number],
        )
    }


def outcome_of(built: Built, source_file: str, row_number: int) -> tuple[str, str] | None:
    rows = query(
        built,
        "select outcome, reason_code from dq.ledger_record_outcomes where source_file = ? and row_number = ?",
        [source_file, row_number],
    )
    assert len(rows) == 1, f"{source_file} row {row_number}: {len(rows)} outcomes"
    return rows[0]


def check_sheet(sheets: dict[str, list[list[str]]], check_name: str) -> list[list[str]]:
    """The report sheet of a check: its title cell is the check's Chinese title from the
    catalogue, then its severity (`培训项目无法识别（错误）：2 条`)."""
    check = CHECK_BY_NAME[check_name]
    for rows in sheets.values():
        if rows and rows[0] and rows[0][0].startswith(f"{check.title_zh}（{SEVERITY_ZH[check.severity]}）"):
            return rows
    raise AssertionError(f"no sheet for {check_name} ({check.title_zh}) in the report: {sorted(sheets)}")


def not_loaded_rows(sheets: dict[str, list[list[str]]]) -> list[list[str]]:
    """The rows of the 未能导入的文件和数据 section: its own sheet, or the file_not_loaded sheet."""
    if NOT_LOADED_SHEET in sheets:
        return sheets[NOT_LOADED_SHEET]
    return check_sheet(sheets, "file_not_loaded")


def linxia_report(built: Built) -> dict[str, list[list[str]]]:
    path = city_report(built.root / "reports", LINXIA_ZHOU)
    assert path is not None, "no report for 临夏回族自治州"
    return report_sheets(path)


# --- the whole run --------------------------------------------------------------------------------


def test_run_exits_0_and_publishes(built):
    assert publish_problems(built.root, built.run, built.warehouse) == []


def test_run_prints_failed_files(built):
    assert failed_files_line(built.run.output) == 1, built.run.output[-2000:]


def test_audit_row_accounting(built):
    assert audit_problems(built.warehouse) == []


def test_every_ledger_row_counted_or_explained(built):
    assert outcome_problems(built.warehouse) == []


# --- (a) a GBK file name -----------------------------------------------------------------------


def test_gbk_named_file_loads_under_its_display_name(built):
    name = f"{LEDGERS}/{GBK_NAME}"
    files = query(
        built,
        "select status, source_file_bytes from audit.ingest_files where source_file = ? "
        "order by ingested_at desc limit 1",
        [name],
    )
    assert files, f"no audit row for {name}: " + repr(
        query(built, "select source_file, status from audit.ingest_files where source_file like '%补报%'")
    )
    status, escaped = files[0]
    assert status == "loaded"
    assert escaped and escaped != name, "source_file_bytes must keep the exact bytes, escaped"
    (state_bytes,) = query(
        built, "select source_file_bytes from audit.file_state where source_file = ?", [name]
    )[0]
    assert state_bytes == escaped
    assert query(built, "select count(*) from raw.training_records where source_file = ?", [name]) == [(2,)]
    # UTF-8 names keep NULL
    assert query(
        built,
        "select count(*) from audit.file_state where source_file = ? and source_file_bytes is not null",
        [EXTRA],
    ) == [(0,)]


# --- (b), (e), (f): rows that cannot count -----------------------------------------------------


@pytest.mark.parametrize(
    ("case", "check"),
    [
        ("blank_programme_expired_institution", "unknown_programme"),
        ("unknown_programme", "unknown_programme"),
        ("blank_programme", "unknown_programme"),
        ("blank_start_date", "missing_start_date"),
    ],
)
def test_row_not_counted_and_explained(built, case, check):
    row = EXTRA_ROW_NUMBER[case]
    assert query(
        built,
        "select count(*) from raw.training_records where source_file = ? and row_number = ?",
        [EXTRA, row],
    ) == [(1,)], "the row must be loaded, not left out at ingest"
    assert check in checks_at(built, EXTRA, row)
    outcome, reason = outcome_of(built, EXTRA, row)
    assert outcome == "not_counted"
    assert reason in checks_at(built, EXTRA, row), f"reason {reason} has no finding at the row"
    sheet = check_sheet(linxia_report(built), check)
    assert report_has_row(sheet, EXTRA, str(row)), f"{check} of {EXTRA} row {row} not in the city report"


def test_expired_institution_is_reported_beside_the_blank_programme(built):
    row = EXTRA_ROW_NUMBER["blank_programme_expired_institution"]
    assert "institution_qualification_expired" in checks_at(built, EXTRA, row)


# --- (c) a hidden sheet --------------------------------------------------------------------------


def test_hidden_sheet_is_quarantined_not_loaded(built):
    quarantined = query(
        built,
        "select raw_value from audit.quarantine "
        "where source_file = ? and sheet = ? and reason_code = 'hidden_sheet'",
        [WITH_HIDDEN, HIDDEN_SHEET],
    )
    assert len(quarantined) == 1
    # its non-blank rows: with the header, or the data rows below it
    assert quarantined[0][0] in (str(built.hidden_rows), str(built.hidden_rows - 1))
    status = query(built, "select status from audit.file_state where source_file = ?", [WITH_HIDDEN])
    assert status == [("loaded",)]
    sheets = query(
        built, "select distinct sheet from raw.training_records where source_file = ?", [WITH_HIDDEN]
    )
    assert HIDDEN_SHEET not in {s for (s,) in sheets} and sheets


def test_hidden_sheet_is_a_finding_and_in_the_report(built):
    findings = query(
        built,
        "select severity, city_code from dq.findings where check_name = 'file_not_loaded' "
        "and source_file = ? and sheet = ?",
        [WITH_HIDDEN, HIDDEN_SHEET],
    )
    assert findings == [("error", LINXIA_ZHOU)]
    assert report_has_row(not_loaded_rows(linxia_report(built)), WITH_HIDDEN, HIDDEN_SHEET)


# --- (d) no task allocated ----------------------------------------------------------------------


def test_county_without_task_is_a_finding(built):
    findings = query(
        built,
        "select count(*) from dq.findings where check_name = 'no_task_allocated' and county_code = '622921'",
    )
    assert findings[0][0] >= 1
    assert query(
        built, "select count(*) from dq.ledger_record_outcomes where source_file = ?", [NO_TASK]
    ) == [(2,)]
    sheet = check_sheet(linxia_report(built), "no_task_allocated")
    assert report_has_row(sheet, "临夏县")


# --- (g) a corrupt file ---------------------------------------------------------------------------


def test_corrupt_file_failed_with_a_message(built):
    rows = query(built, "select status, error from audit.file_state where source_file = ?", [CORRUPT])
    assert len(rows) == 1 and rows[0][0] == "failed" and rows[0][1]
    # every other ledger still loaded
    others = query(
        built,
        "select source_file, status from audit.current_files "
        "where source = 'training_records' and source_file <> ?",
        [CORRUPT],
    )
    assert others and all(status == "loaded" for _, status in others), others


def test_corrupt_file_is_a_finding_and_in_the_report(built):
    findings = query(
        built,
        "select severity, county_code, city_code from dq.findings "
        "where check_name = 'file_not_loaded' and source_file = ?",
        [CORRUPT],
    )
    assert findings == [("error", "622922", LINXIA_ZHOU)]
    assert report_has_row(not_loaded_rows(linxia_report(built)), CORRUPT)


def test_province_report_counts_files_not_loaded(built):
    path = city_report(built.root / "reports", "620000")
    assert path is not None
    texts = [cell for rows in report_sheets(path).values() for row in rows for cell in row]
    assert any("未能导入" in t for t in texts), "the province report must count what failed to load per city"
