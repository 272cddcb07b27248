"""Files parsed together share their DuckDB passes, yet each keeps its own rows, counts and faults.

Small files are parsed in groups (``reader.parse_files``): the rows of every sheet of a source go
through one pass whatever their header variants, column order or missing columns. These tests
write such a group and check that nothing of one file leaks into another.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.ingest import pipeline, reader
from orchestration.lib.ingest.reader import FileTask, parse_files
from tests.support.ingest_cases import Warehouse, household_row, households, write_csv, write_xls, write_xlsx

FOLDER = "household_sheets"
# the same columns under other names and in another order (性别 before 与户主关系), without
# 采集日期 and 户主姓名
VARIANT_HEADERS = ["县（市、区）", "乡(镇)", "村", "户码", "成员姓名", "公民身份号码", "性别", "与户主关系"]
CANONICAL = ["县区", "乡镇", "行政村", "户编号", "姓名", "身份证号码", "性别", "与户主关系"]
VARIANT_OF = dict(zip(VARIANT_HEADERS, CANONICAL, strict=True))


def variant_rows(n: int, first: int = 100) -> list[list[object]]:
    rows = [household_row(first + i) for i in range(n)]
    return [VARIANT_HEADERS] + [[row[VARIANT_OF[h]] for h in VARIANT_HEADERS] for row in rows]


def query(sql: str, params: list) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql, params).fetchall()


def test_a_group_keeps_each_files_rows_counts_and_layout(tmp_path):
    plain = write_xlsx(tmp_path / "a.xlsx", {"S": households(3)})
    # a repeated header row (its own variant texts) and a row without key fields, in its own order
    rows = variant_rows(4)
    repeated = list(VARIANT_HEADERS)
    keyless = [None, None, None, None, None, None, "女", "配偶"]
    variant = write_csv(tmp_path / "b.csv", rows[:3] + [repeated, keyless] + rows[3:])
    broken = tmp_path / "c.xlsx"
    broken.write_bytes(plain.read_bytes()[:300])  # a cut-off upload between the good files
    wide = write_xls(
        tmp_path / "d.xls", {"S": households(2, 身份证号码="６２２９２２１９９００１０１００１Ｘ")}
    )
    tasks = [
        FileTask(path, "household_members", f"{FOLDER}/{path.name}")
        for path in (plain, variant, broken, wide)
    ]
    a, b, c, d = parse_files(tasks, tmp_path / "parts")

    assert (a.status, a.rows_read, a.rows_loaded, a.rows_skipped) == ("loaded", 3, 3, 0)
    assert (b.status, b.rows_read, b.rows_loaded, b.rows_quarantined, b.rows_skipped) == (
        "loaded",
        6,
        4,
        1,
        1,
    )
    assert {k: n for k, n in b.skipped.items() if n} == {"header": 1}
    assert c.status == "failed" and "[corrupt_zip]" in c.error and not c.row_parts
    assert (d.status, d.rows_loaded) == ("loaded", 2)
    # the files shared their passes: one part holds the rows of all three
    assert set(a.row_parts) == set(b.row_parts) == set(d.row_parts) and len(a.row_parts) == 1
    loaded = query(
        "select source_file, row_number, member_name, collected_on, head_name, id_number "
        "from read_parquet(?) order by source_file, row_number",
        [a.row_parts],
    )
    assert [r[:3] for r in loaded] == [
        (f"{FOLDER}/a.xlsx", 2, "马小0"),
        (f"{FOLDER}/a.xlsx", 3, "马小1"),
        (f"{FOLDER}/a.xlsx", 4, "马小2"),
        (f"{FOLDER}/b.csv", 2, "马小100"),
        (f"{FOLDER}/b.csv", 3, "马小101"),
        (f"{FOLDER}/b.csv", 6, "马小102"),
        (f"{FOLDER}/b.csv", 7, "马小103"),
        (f"{FOLDER}/d.xls", 2, "马小0"),
        (f"{FOLDER}/d.xls", 3, "马小1"),
    ]
    # columns the variant sheet lacks are NULL for its rows only
    assert {(r[0], r[3], r[4]) for r in loaded} == {
        (f"{FOLDER}/a.xlsx", "2015-06-03", "马福海"),
        (f"{FOLDER}/b.csv", None, None),
        (f"{FOLDER}/d.xls", "2015-06-03", "马福海"),
    }
    # full-width digits of one file were made half-width, the others' IDs untouched
    assert {r[5] for r in loaded if r[0].endswith("d.xls")} == {"62292219900101001X"}
    assert [r[5] for r in loaded if r[0].endswith("a.xlsx")] == [f"62292219900101{i:03d}X" for i in range(3)]
    entries = query(
        "select source_file, row_number, column_name, raw_value, reason_code from read_parquet(?)",
        [b.quarantine_parts],
    )
    # the keyless row as the official wrote it, in the sheet's column order, with its headers
    assert entries == [(f"{FOLDER}/b.csv", 5, None, "性别=女 | 与户主关系=配偶", "row_without_key_fields")]
    assert not a.quarantine_parts and not d.quarantine_parts


def test_a_pass_that_fails_on_one_files_rows_fails_that_file_alone(tmp_path, monkeypatch):
    """A fault in the shared pass (a bug, not a bad cell: forced here) fails only the file whose
    rows cause it; the others' rows are passed again without it."""
    good = write_xlsx(tmp_path / "good.xlsx", {"S": households(3)})
    bad = write_xlsx(tmp_path / "bad.xlsx", {"S": households(2, 性别="BOOM")})
    original = reader._text_column

    def failing(values, kind):
        if "BOOM" in values:
            raise RuntimeError("a bug")
        return original(values, kind)

    monkeypatch.setattr(reader, "_text_column", failing)
    tasks = [FileTask(path, "household_members", path.name) for path in (good, bad)]
    good_result, bad_result = parse_files(tasks, tmp_path / "parts")
    assert (good_result.status, good_result.rows_loaded) == ("loaded", 3)
    assert bad_result.status == "failed" and "RuntimeError: a bug" in bad_result.error
    assert bad_result.rows_loaded == 0 and not bad_result.row_parts
    assert query("select count(*), min(source_file) from read_parquet(?)", [good_result.row_parts]) == [
        (3, "good.xlsx")
    ]


def test_amounts_beyond_eighteen_digits_still_load(tmp_path):
    """Decimals are parsed as decimal(18, 6) first, decimal(38, 6) only when that overflows."""
    headers = ["县区", "乡镇", "行政村", "姓名", "身份证号码", "培训项目", "开班日期", "补贴金额(元)"]
    amounts = ["1,200.50元", "123456789012345.5", "99999999999999999999999999999999", "-3", "12.0000004"]
    rows = [headers] + [
        [
            "康乐县",
            "城关镇",
            "胭脂村",
            f"马{i}",
            f"62292219900101{i:03d}X",
            "引导性培训",
            "2015-06-03",
            amount,
        ]
        for i, amount in enumerate(amounts)
    ]
    parsed = reader.parse_file(
        write_xlsx(tmp_path / "t.xlsx", {"S": rows}), "training_records", tmp_path / "p"
    )
    values = query("select subsidy_yuan from read_parquet(?) order by row_number", [parsed.row_parts])
    assert [v for (v,) in values] == [
        "1200.5",
        "123456789012345.5",
        "99999999999999999999999999999999",
        None,
        "12",
    ]
    codes = query("select row_number, reason_code from read_parquet(?)", [parsed.quarantine_parts])
    assert codes == [(5, "negative_number")]


@pytest.mark.parametrize("workers", [1, 2])
def test_files_sharing_parts_load_once_across_transactions(tmp_path, monkeypatch, workers):
    """A transaction per file (--batch-files 1) while files share parts: each file's rows are
    inserted once, with its own lineage."""
    monkeypatch.setattr(pipeline._Writer, "BATCH_FILES", 1)
    wh = Warehouse(tmp_path)
    for i in range(5):
        write_xlsx(wh.file(FOLDER, f"f{i}.xlsx"), {"S": households(i + 1, 乡镇=f"乡{i}")})
    write_csv(wh.file(FOLDER, "v.csv"), variant_rows(2))
    report = wh.ingest(workers=workers)
    assert report.files_parsed == 6
    assert wh.query(
        "select source_file, count(*), count(distinct row_number), min(file_sha256) = max(file_sha256) "
        "from raw.household_members group by 1 order by 1"
    ) == [(f"{FOLDER}/f{i}.xlsx", i + 1, i + 1, True) for i in range(5)] + [(f"{FOLDER}/v.csv", 2, 2, True)]
    assert wh.one("select count(*) from audit.ingest_files") == 6
    assert wh.one("select count(distinct township) from raw.household_members") == 6


def test_a_file_whose_finishing_raises_fails_alone_and_its_group_loads(tmp_path, monkeypatch):
    """An exception that escapes the grouped parse (here: adding up one file's sheets, after the
    group's shared DuckDB pass) must not fail the other files of its group nor stop the run:
    the group is parsed again file by file, and only the file that raises is ``failed``, with a
    message naming it."""
    wh = Warehouse(tmp_path)
    write_xlsx(wh.file(FOLDER, "a.xlsx"), {"S": households(2)})
    write_xlsx(wh.file(FOLDER, "bad.xlsx"), {"S": households(3)})
    write_csv(wh.file(FOLDER, "c.csv"), variant_rows(2))
    finish = reader._FileParser.finish

    def raising_finish(self):
        if self.result.source_file.endswith("bad.xlsx"):
            raise ValueError("boom in the sums")
        finish(self)

    monkeypatch.setattr(reader._FileParser, "finish", raising_finish)
    report = wh.ingest(workers=1)  # in this process: the patch holds; the three files are one group
    by_file = {o.source_file: o for o in report.outcomes}
    assert by_file[f"{FOLDER}/a.xlsx"].status == by_file[f"{FOLDER}/c.csv"].status == "loaded"
    bad = wh.state(f"{FOLDER}/bad.xlsx")
    assert bad["status"] == "failed"
    assert f"{FOLDER}/bad.xlsx" in bad["error"] and "ValueError: boom in the sums" in bad["error"]
    assert wh.one("select count(*) from raw.household_members") == 4
    assert wh.one("select count(*) from raw.household_members where source_file like '%bad%'") == 0
