"""The bad-input corpus: every way a real file goes wrong, each with its expected outcome.

All cases sit in one raw folder and are ingested in one run (through the process pool), so
the run also proves that no bad file stops the others. Each case states what must happen:
loaded (with these quarantine codes), or failed (with this reason code in the error).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestration.defs.ingest.assets import ingest_check_result
from tests.ingest_cases import (
    HOUSEHOLD_HEADERS,
    Formula,
    Warehouse,
    household_row,
    households,
    table,
    write_csv,
    write_xls,
    write_xlsx,
)

VILLAGE = ["县区", "乡镇", "行政村", "总户数", "总人口", "贫困户数", "填报日期"]
INSTITUTION = ["机构代码", "机构名称", "机构类型", "所在县区", "核准培训工种", "年培训能力", "资质有效期至"]
TRAINING = [
    "县区",
    "乡镇",
    "行政村",
    "姓名",
    "身份证号码",
    "培训项目",
    "培训工种",
    "培训机构",
    "开班日期",
    "结业日期",
    "培训天数",
    "是否结业",
    "补贴金额(元)",
]
WAR_MAP = ["县区", "乡镇", "行政村", "贫困户数", "培训对象人数", "就业技能培训", "创业培训", "责任人"]
TASKS = ["年度", "市州", "县区", "就业技能培训", "两后生", "劳务品牌培训"]


def village(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": f"村{i}",
        "总户数": "120",
        "总人口": "480",
        "贫困户数": "40",
        "填报日期": "2015-06-03",
    }
    return row | kw


def institution(i: int = 0, **kw) -> dict:
    row = {
        "机构代码": f"12622922MB1{i:06d}X",
        "机构名称": f"康乐县职业技术学校{i}",
        "机构类型": "公办职业院校",
        "所在县区": "康乐县",
        "核准培训工种": "电焊工、厨师",
        "年培训能力": "500",
        "资质有效期至": "2017-12-31",
    }
    return row | kw


def training(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": "胭脂村",
        "姓名": f"马{i}",
        "身份证号码": f"62292219900101{i:03d}X",
        "培训项目": "就业技能培训",
        "培训工种": "电焊工",
        "培训机构": "康乐县职业技术学校",
        "开班日期": "2015-06-01",
        "结业日期": "2015-06-20",
        "培训天数": "20",
        "是否结业": "是",
        "补贴金额(元)": "1,200元",
    }
    return row | kw


def war(i: int = 0, **kw) -> dict:
    row = {
        "县区": "康乐县",
        "乡镇": "城关镇",
        "行政村": f"村{i}",
        "贫困户数": 40,
        "培训对象人数": 30,
        "就业技能培训": 10,
        "创业培训": 2,
        "责任人": "马主任",
    }
    return row | kw


@dataclass
class Case:
    name: str  # test id
    folder: str
    filename: str
    build: Callable[[Path], None]
    status: str  # loaded | failed | duplicate
    rows_loaded: int = 0
    codes: set[str] = field(default_factory=set)  # quarantine reason codes, exactly
    error_code: str | None = None  # for failed files: the code in the error
    check: Callable[[Warehouse, str], None] | None = None


def truncated_xlsx(path: Path) -> None:
    write_xlsx(path, {"S": households(3)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_xlsx(path: Path) -> None:
    """A zip whose sheet entry is garbage (the directory is intact)."""
    buffer = io.BytesIO()
    write_xlsx(path, {"S": households(3)})
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = b"\x00\xff garbage <row><c r=" + data[:40]
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def encrypted_xlsx(path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = path.with_suffix(".plain")
    write_xlsx(plain, {"S": table(INSTITUTION, [institution()])})
    with plain.open("rb") as f, path.open("wb") as out:
        OOXMLFile(f).encrypt("1234", out)
    plain.unlink()


def docx_named_xlsx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")


def symlink_outside(path: Path) -> None:
    outside = path.parent.parent.parent / "outside.xlsx"
    write_xlsx(outside, {"S": households(1)})
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, path)


def text(path: Path, content: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding=encoding)


def check_rows(sql: str, expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        assert wh.query(sql, [source_file]) == expected

    return check


def check_error_mentions(*words: str) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        error = wh.state(source_file)["error"]
        for word in words:
            assert word in error, (word, error)

    return check


def check_quarantine(expected: list[tuple]) -> Callable[[Warehouse, str], None]:
    def check(wh: Warehouse, source_file: str) -> None:
        assert [(q[1], q[2], q[3], q[4]) for q in wh.quarantine(source_file)] == expected

    return check


HH, VIL, INS, TRN, WAR, PRG, TSK = (
    "household_sheets",
    "village_sheets",
    "institution_rosters",
    "training_ledgers",
    "war_maps",
    "progress_reports",
    "task_allocations",
)
PROGRESS_HEADER = ["县区", "统计月份", "培训对象人数", "就业技能培训", None, "取得证书人数"]
PROGRESS_SUB = [None, None, None, "任务数", "已完成", None]

CASES = [
    Case("truncated zip", HH, "truncated.xlsx", truncated_xlsx, "failed", error_code="corrupt_zip"),
    Case("corrupt sheet xml", HH, "corrupt.xlsx", corrupt_xlsx, "failed", error_code="unreadable"),
    Case("password protected", INS, "locked.xlsx", encrypted_xlsx, "failed", error_code="encrypted"),
    Case(
        "empty workbook",
        VIL,
        "empty.xlsx",
        lambda p: write_xlsx(p, {"Sheet1": []}),
        "failed",
        error_code="empty_workbook",
    ),
    Case("zero-byte csv", VIL, "zero.csv", lambda p: text(p, ""), "failed", error_code="empty_workbook"),
    Case(
        "header only",
        TRN,
        "header-only.xlsx",
        lambda p: write_xlsx(p, {"S": [TRAINING]}),
        "loaded",
        0,
        {"header_only_sheet"},
    ),
    Case(
        "header in row 7",
        WAR,
        "row7.xlsx",
        lambda p: write_xlsx(
            p,
            {"S": [["作战图"], [], ["填报单位"], [], [], ["单位：人次"]] + table(WAR_MAP, [war(0), war(1)])},
        ),
        "loaded",
        2,
        check=check_rows(
            "select row_number from raw.war_map_targets where source_file = ? order by 1", [(8,), (9,)]
        ),
    ),
    Case(
        "unknown column",
        TRN,
        "unknown-col.xlsx",
        lambda p: write_xlsx(p, {"S": table([*TRAINING, "微信号"], [training(0, 微信号="wx123")])}),
        "loaded",
        1,
        {"unknown_column"},
        check=check_quarantine([(1, None, "微信号", "unknown_column")]),
    ),
    Case(
        "missing required column",
        TRN,
        "no-id.xlsx",
        lambda p: write_xlsx(p, {"台账": table([h for h in TRAINING if h != "身份证号码"], [training()])}),
        "failed",
        error_code="missing_required_column",
        check=check_error_mentions("台账", "身份证号码"),
    ),
    Case(
        "duplicated column",
        HH,
        "dup-col.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "S": table(
                    [*HOUSEHOLD_HEADERS, "身份证号"],
                    [
                        household_row(0) | {"身份证号": "62292219900101000X"},
                        household_row(1) | {"身份证号": "622922199001019999"},
                    ],
                )
            },
        ),
        "loaded",
        2,
        {"duplicate_column", "duplicate_column_conflict"},
        check=check_quarantine(
            [
                (1, "id_number", "身份证号", "duplicate_column"),
                (3, "id_number", "622922199001019999", "duplicate_column_conflict"),
            ]
        ),
    ),
    Case(
        "merged cells down data rows",
        WAR,
        "merged.xls",
        lambda p: write_xls(
            p, {"S": table(WAR_MAP, [war(0), war(1, 乡镇=None), war(2, 乡镇=None)])}, {"S": [(1, 1, 3, 1)]}
        ),
        "loaded",
        3,
        check=check_rows(
            "select distinct township from raw.war_map_targets where source_file = ?", [("城关镇",)]
        ),
    ),
    Case(
        "formula errors",
        PRG,
        "formula.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "S": [
                    PROGRESS_HEADER,
                    PROGRESS_SUB,
                    [
                        "康乐县",
                        "2015-09",
                        Formula("=A9", "#REF!"),
                        10,
                        Formula("=1/0", "#DIV/0!"),
                        Formula("=B2*2", 7),
                    ],
                ]
            },
            {"S": [(0, 3, 0, 4)]},
        ),
        "loaded",
        1,
        {"formula_error"},
        check=check_quarantine(
            [(3, "done_employ", "#DIV/0!", "formula_error"), (3, "target_persons", "#REF!", "formula_error")]
        ),
    ),
    Case(
        "numbers as text and text as numbers",
        VIL,
        "types.xlsx",
        lambda p: write_xlsx(p, {"S": table(VILLAGE, [village(0, 行政村=101, 总户数="120", 总人口=480.0)])}),
        "loaded",
        1,
        check=check_rows(
            "select village, total_households, total_population from raw.village_statistics "
            "where source_file = ?",
            [("101", "120", "480")],
        ),
    ),
    Case(
        "rounded ID number",
        TRN,
        "rounded-id.xlsx",
        lambda p: write_xlsx(p, {"S": table(TRAINING, [training(0, 身份证号码=6.22922199001011e17)])}),
        "loaded",
        1,
        {"id_number_typed_as_number"},
        check=check_rows(
            "select id_number from raw.training_records where source_file = ?", [("6.22922199001011E+17",)]
        ),
    ),
    Case(
        "15-digit old ID as number",
        TRN,
        "old-id.xls",
        lambda p: write_xls(p, {"S": table(TRAINING, [training(0, 身份证号码=622922900101001)])}),
        "loaded",
        1,
        {"id_number_typed_as_number"},
        check=check_rows(
            "select id_number from raw.training_records where source_file = ?", [("622922900101001",)]
        ),
    ),
    Case(
        "lower-case x",
        HH,
        "lower-x.csv",
        lambda p: write_csv(p, table(HOUSEHOLD_HEADERS, [household_row(0, 身份证号码="62292219900101000x")])),
        "loaded",
        1,
        check=check_rows(
            "select id_number from raw.household_members where source_file = ?", [("62292219900101000X",)]
        ),
    ),
    Case(
        "full-width digits",
        VIL,
        "fullwidth.csv",
        lambda p: write_csv(
            p, table(VILLAGE, [village(0, 总户数="１２０", 总人口="４８０人", 填报日期="２０１５年６月３日")])
        ),
        "loaded",
        1,
        check=check_rows(
            "select total_households, total_population, reported_on from raw.village_statistics "
            "where source_file = ?",
            [("120", "480", "2015-06-03")],
        ),
    ),
    Case(
        "date before 1900 and in the future",
        TRN,
        "dates.xlsx",
        lambda p: write_xlsx(
            p, {"S": table(TRAINING, [training(0, 开班日期="1899-06-01", 结业日期="2031-06-20")])}
        ),
        "loaded",
        1,
        {"date_out_of_range"},
        check=check_rows(
            "select start_date, end_date from raw.training_records where source_file = ?",
            [(None, "2031-06-20")],
        ),
    ),
    Case(
        "negative count",
        VIL,
        "negative.xlsx",
        lambda p: write_xlsx(p, {"S": table(VILLAGE, [village(0, 贫困户数=-4)])}),
        "loaded",
        1,
        {"negative_number"},
    ),
    Case(
        "合计 row in the middle",
        WAR,
        "total-middle.xlsx",
        lambda p: write_xlsx(p, {"S": table(WAR_MAP, [war(0), war(1, 县区="小计"), war(2)])}),
        "loaded",
        2,
        check=check_rows(
            "select row_number from raw.war_map_targets where source_file = ? order by 1", [(2,), (4,)]
        ),
    ),
    Case(
        "xlsx that is really csv",
        INS,
        "really-csv.xlsx",
        lambda p: write_csv(p, table(INSTITUTION, [institution(0)]), "gb18030"),
        "loaded",
        1,
    ),
    Case(
        "xls that is really xlsx",
        WAR,
        "really-xlsx.xls",
        lambda p: write_xlsx(p, {"S": table(WAR_MAP, [war(0)])}),
        "loaded",
        1,
    ),
    Case(
        "GB18030 csv",
        INS,
        "gb.csv",
        lambda p: write_csv(p, table(INSTITUTION, [institution(0), institution(1)]), "gb18030"),
        "loaded",
        2,
        check=check_rows(
            "select institution_name from raw.institutions where source_file = ? order by 1",
            [("康乐县职业技术学校0",), ("康乐县职业技术学校1",)],
        ),
    ),
    Case(
        "UTF-8 BOM csv",
        TSK,
        "bom.csv",
        lambda p: write_csv(
            p, [TASKS, ["2015年", "临夏回族自治州", "康乐县", "47", "45", "15"]], "utf-8-sig"
        ),
        "loaded",
        1,
        check=check_rows(
            "select year, task_employ, task_two_after, task_brand from raw.task_allocations "
            "where source_file = ?",
            [("2015", "47", "45", "15")],
        ),
    ),
    Case(
        "file name with spaces and Chinese",
        HH,
        "康乐县 城关镇 户级采集表（最终版）.xlsx",
        lambda p: write_xlsx(p, {"S": households(2)}),
        "loaded",
        2,
    ),
    Case(
        "file name with path traversal",
        HH,
        "..\\..\\etc\\passwd.xlsx",
        lambda p: write_xlsx(p, {"S": households(1)}),
        "loaded",
        1,
    ),
    Case(
        "link out of the raw folder", HH, "link.xlsx", symlink_outside, "failed", error_code="outside_raw_dir"
    ),
    Case(
        "sheet name with SQL quotes",
        HH,
        "quotes.xlsx",
        lambda p: write_xlsx(p, {"户'表\"; drop table x--": households(1)}),
        "loaded",
        1,
        check=check_rows(
            "select sheet from raw.household_members where source_file = ?", [("户'表\"; drop table x--",)]
        ),
    ),
    Case(
        "same file twice: original",
        VIL,
        "a-original.xlsx",
        lambda p: write_xlsx(p, {"S": table(VILLAGE, [village(0)])}),
        "loaded",
        1,
    ),
    Case(
        "same file twice: copy",
        VIL,
        "b-copy.xlsx",
        lambda p: shutil.copyfile(p.with_name("a-original.xlsx"), p),
        "duplicate",
    ),
    Case(
        "pdf in a source folder",
        WAR,
        "notes.pdf",
        lambda p: text(p, "%PDF-1.4"),
        "failed",
        error_code="unsupported_extension",
    ),
    Case(
        "Word document named xlsx", WAR, "word.xlsx", docx_named_xlsx, "failed", error_code="not_a_workbook"
    ),
    Case(
        "HTML saved as xls",
        PRG,
        "web-export.xls",
        lambda p: text(p, "<html><body><table><tr><td>县区</td></tr></table></body></html>"),
        "failed",
        error_code="html_disguised",
    ),
    Case(
        "sheet in the wrong folder",
        VIL,
        "households.xlsx",
        lambda p: write_xlsx(p, {"S": households(2)}),
        "failed",
        error_code="wrong_folder",
        check=check_error_mentions("户级采集表", "household_sheets"),
    ),
    Case(
        "row without key fields",
        TRN,
        "no-keys.xlsx",
        lambda p: write_xlsx(p, {"S": table(TRAINING, [training(0), {"培训天数": "5", "是否结业": "是"}])}),
        "loaded",
        1,
        {"row_without_key_fields"},
        check=check_quarantine([(3, None, "培训天数=5 | 是否结业=是", "row_without_key_fields")]),
    ),
    Case(
        "hidden lookup and instruction sheets",
        HH,
        "with-lists.xlsx",
        lambda p: write_xlsx(
            p,
            {
                "填表说明": [["请按要求填写"], ["身份证号码请设为文本格式"]],
                "户表": households(2),
                "字典": [["男", "汉族"], ["女", "回族"], ["", "藏族"]],
            },
            hidden=["字典"],
        ),
        "loaded",
        2,
        {"sheet_ignored"},
    ),
    Case(
        "sheet without any header next to a good one",
        HH,
        "stray-sheet.xlsx",
        lambda p: write_xlsx(p, {"户表": households(1), "统计": [["a", "b", "c"], [1, 2, 3], [4, 5, 6]]}),
        "loaded",
        1,
        {"no_header_row"},
    ),
    Case(
        "legacy xls with date cells",
        INS,
        "legacy.xls",
        lambda p: write_xls(
            p, {"名册": table(INSTITUTION, [institution(0, 资质有效期至=dt.date(2017, 12, 31))])}
        ),
        "loaded",
        1,
        check=check_rows(
            "select qualification_valid_until from raw.institutions where source_file = ?", [("2017-12-31",)]
        ),
    ),
    Case(
        "unparseable month",
        PRG,
        "month.csv",
        lambda p: write_csv(p, [PROGRESS_HEADER, PROGRESS_SUB, ["康乐县", "九月", "150", "10", "5", "3"]]),
        "loaded",
        1,
        {"unparseable_month"},
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("corpus"))
    for case in CASES:
        case.build(wh.file(case.folder, case.filename))
    # good files beside the bad ones in every folder
    write_xlsx(wh.file("household_sheets", "good.xlsx"), {"S": households(5)})
    write_csv(wh.file("training_ledgers", "good.csv"), table(TRAINING, [training(i) for i in range(4)]))
    report = wh.ingest(workers=2)  # through the process pool
    assert report.files_parsed >= len(CASES) - 1
    return wh


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_outcome(corpus: Warehouse, case: Case):
    source_file = f"{case.folder}/{case.filename}"
    state = corpus.state(source_file)
    assert state["status"] == case.status, state
    assert state["rows_loaded"] == case.rows_loaded
    if case.status == "failed":
        assert f"[{case.error_code}]" in state["error"], state["error"]
        assert (state["rows_read"], state["rows_quarantined"], state["rows_skipped"]) == (0, 0, 0)
    else:
        assert state["rows_read"] == state["rows_loaded"] + state["rows_quarantined"] + state["rows_skipped"]
    if case.status != "failed":
        assert corpus.codes(source_file) == case.codes
    table_rows = corpus.query(
        "select count(*) from (select source_file from raw.household_members union all "
        "select source_file from raw.village_statistics union all select source_file from raw.institutions "
        "union all select source_file from raw.training_records union all select source_file from "
        "raw.war_map_targets union all select source_file from raw.progress_reports union all "
        "select source_file from raw.task_allocations) where source_file = ?",
        [source_file],
    )[0][0]
    assert table_rows == case.rows_loaded  # the audit's count is what the table holds
    if case.check:
        case.check(corpus, source_file)


def test_corpus_has_thirty_cases_over_all_seven_sources():
    assert len(CASES) >= 30
    assert {c.folder for c in CASES} == {HH, VIL, INS, TRN, WAR, PRG, TSK}


def test_good_files_load_beside_bad_ones(corpus: Warehouse):
    assert corpus.state("household_sheets/good.xlsx")["rows_loaded"] == 5
    assert corpus.state("training_ledgers/good.csv")["rows_loaded"] == 4


def test_every_outcome_is_accounted_for(corpus: Warehouse):
    """Each file has one history row in the run, and loaded rows add up."""
    rows = corpus.query(
        "select status, count(*), sum(rows_read - rows_loaded - rows_quarantined - rows_skipped) "
        "from audit.ingest_files group by status order by status"
    )
    by_status = {status: (n, gap) for status, n, gap in rows}
    assert by_status["loaded"][1] == 0
    assert sum(n for n, _ in by_status.values()) == len(CASES) + 2
    assert corpus.one("select count(distinct run_id) from audit.ingest_files") == 1


def test_check_fails_listing_failed_files_and_refused_sheets(corpus: Warehouse):
    import duckdb

    with duckdb.connect(str(corpus.path), read_only=True) as con:
        household = ingest_check_result(con, "household_members")
        tasks = ingest_check_result(con, "task_allocations")
    assert tasks.passed
    assert not household.passed
    listed = household.metadata["problems"].value
    for fragment in ("truncated.xlsx", "corrupt.xlsx", "link.xlsx", "stray-sheet.xlsx", "统计"):
        assert fragment in listed, fragment
    assert "with-lists.xlsx" not in listed  # ignored helper sheets are not problems
