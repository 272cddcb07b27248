"""The raw-world generator: determinism, valid IDs, readable formats, a consistent clean world, and a
manifest whose defects can be seen in the cells it points at.

Files are generated into tmp folders and read back with python-calamine (and openpyxl for .xlsx),
with a small reader of our own here so that the test does not depend on the ingest code.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import json
import re
import unicodedata
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from orchestration.generate import generate, layout, oracle, vocab
from orchestration.generate.reference import programmes, regions
from orchestration.sources import PROGRAMME_CODES, SOURCES

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "raw"
KINDS = {
    "target_persons_mismatch", "report_overclaims_ledger", "report_underclaims_ledger", "task_inflated",
    "unclassified_training_need", "course_too_short", "course_too_long", "duplicate_training",
    "invalid_id_number", "rounded_id_number", "id_region_mismatch", "trainee_not_registered",
    "institution_not_on_roster", "trade_not_approved", "institution_qualification_expired",
    "village_count_mismatch",
}  # fmt: skip
EXCEL_EPOCH = date(1899, 12, 30)


# ---------------------------------------------------------------------------------------------
# worlds


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate("sample", 2015, out, "all", workers=1, stream=io.StringIO())
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate("sample", 2015, out, "none", workers=2, stream=io.StringIO())
    return out


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# a small reader


@functools.cache
def read_sheets(path: Path) -> dict[str, list[list]]:
    if path.suffix == ".csv":
        raw = path.read_bytes()
        encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "gb18030"
        return {"": list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))}
    workbook = CalamineWorkbook.from_path(str(path))
    return {
        name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in workbook.sheet_names
    }


def norm(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = f"{value:.15G}"
    elif isinstance(value, (date, datetime)):
        value = value.isoformat()[:10]
    return unicodedata.normalize("NFKC", str(value)).strip()


def count(value) -> int:
    return int(norm(value).replace(",", "").removesuffix("人"))


def to_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return EXCEL_EPOCH + timedelta(days=int(value))
    text = norm(value)
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    y, m, d = (int(x) for x in re.findall(r"\d+", text))
    return date(y, m, d)


def to_month(value) -> str:
    y, m = (int(x) for x in re.findall(r"\d+", norm(value))[:2])
    return f"{y}-{m:02d}"


def programme_of(name: str) -> str:
    for code, prog in programmes().items():
        if norm(name) in {norm(v) for v in prog.variants}:
            return code
    raise AssertionError(f"programme name {name!r} is in no seed variant")


def header_map(source) -> dict[str, str]:
    names = {}
    for col in source.columns:
        for header in (col.header, *col.variants):
            names[norm(header)] = col.name
    for prefix, suffix in source.programme_groups:
        for code, prog in programmes().items():
            for variant in prog.variants:
                names[norm(variant) + (f"/{suffix}" if suffix else "")] = f"{prefix}_{code.lower()}"
    return names


def parse(rows: list[list], source) -> list[tuple[int, dict, list]]:
    """(spreadsheet row number, {column: cell}, raw cells) for each data row of a sheet."""
    names = header_map(source)
    cells = [[norm(c) for c in row] for row in rows]
    start = next(i for i, row in enumerate(cells) if sum(c in names for c in row) >= 2)
    top = cells[start]
    below = cells[start + 1] if start + 1 < len(cells) else []
    two_rows = any(below) and all(not c or c in names or c in ("任务数", "已完成") for c in below)
    columns, group = [], ""
    for j, head in enumerate(top):
        group = head or group
        sub = below[j] if two_rows and j < len(below) else ""
        if sub in ("任务数", "已完成"):
            columns.append(names.get(f"{group}/{sub}"))
        else:
            columns.append(names.get(sub or head))
    out = []
    for i in range(start + (2 if two_rows else 1), len(rows)):
        row = cells[i]
        if not any(row) or any(c.replace(" ", "") == "合计" for c in row):
            continue
        out.append(
            (i + 1, {col: rows[i][j] for j, col in enumerate(columns) if col and j < len(rows[i])}, rows[i])
        )
    return out


def source_rows(folder: Path, source_name: str) -> list[tuple[str, str, int, dict, list]]:
    result = []
    for f in manifest_of(folder)["files"]:
        if f["source"] != source_name:
            continue
        for sheet, rows in read_sheets(folder / f["path"]).items():
            for number, row, raw in parse(rows, SOURCES[source_name]):
                result.append((f["path"], sheet, number, row, raw))
    return result


def county_code(name) -> str:
    text = norm(name)
    return next(
        r.code for r in regions().values() if r.level == "county" and text in (r.name_zh, r.short_name_zh)
    )


def id_is_valid(text: str) -> bool:
    """GB 11643: 17 digits, the MOD 11-2 check character, a real birth date (not stdnum's place lookup)."""
    if len(text) != 18 or not text[:17].isdigit() or ric.calc_check_digit(text) != text[17]:
        return False
    try:
        ric.get_birth_date(text)
    except Exception:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# tests


def test_sample_regenerates_the_committed_raw_folder(sample):
    committed, fresh = manifest_of(COMMITTED), manifest_of(sample)
    assert fresh == committed
    for f in committed["files"]:
        assert read_sheets(sample / f["path"]) == read_sheets(COMMITTED / f["path"]), f["path"]


def test_sample_is_small_and_has_every_format(sample):
    manifest = manifest_of(sample)
    size = sum((sample / f["path"]).stat().st_size for f in manifest["files"])
    assert size < 3_000_000
    assert {f["format"] for f in manifest["files"]} == {"xlsx", "xls", "ods", "csv-gb18030", "csv-utf8"}
    assert {f["source"] for f in manifest["files"]} == set(SOURCES)
    assert 2000 <= manifest["world"]["persons"] <= 6000


def test_every_workbook_opens_and_xlsx_also_in_openpyxl(sample):
    for f in manifest_of(sample)["files"]:
        path = sample / f["path"]
        sheets = read_sheets(path)
        if f["format"] == "csv-utf8":
            assert path.read_bytes().startswith(codecs.BOM_UTF8)
        if f["format"] == "csv-gb18030":
            raw = path.read_bytes()
            assert not raw.startswith(codecs.BOM_UTF8)
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        names = [s["name"] for s in f["sheets"]]
        assert list(sheets) == names, f["path"]
        if f["format"] == "xlsx":
            workbook = openpyxl.load_workbook(path, read_only=True)
            assert workbook.sheetnames == names
            for name in names:
                values = [list(r) for r in workbook[name].iter_rows(values_only=True)]
                assert len(values) == len(sheets[name]), (f["path"], name)
                assert [norm(c) for c in values[-1]] == [norm(c) for c in sheets[name][-1]]


def test_every_id_is_valid_unless_a_defect_is_planted_on_its_row(sample):
    manifest = manifest_of(sample)
    flagged = {
        (d["source_file"], d["sheet"], d["row_number"])
        for d in manifest["defects"]
        if d["kind"] in ("invalid_id_number", "rounded_id_number", "id_region_mismatch")
    }
    checked = 0
    for source in ("household_members", "training_records"):
        for path, sheet, number, row, _ in source_rows(sample, source):
            text = norm(row["id_number"]).upper()
            fine = id_is_valid(text) and text[:6] == county_code(row["county"])
            if not fine or isinstance(row["id_number"], float):
                assert (path, sheet, number) in flagged, (path, sheet, number, text)
            checked += 1
    assert (
        checked
        == manifest["counts"]["household_members"]["rows"] + manifest["counts"]["training_records"]["rows"]
    )


def test_clean_world_has_no_defects_and_agrees_with_itself(clean):
    manifest = manifest_of(clean)
    assert manifest["defects"] == []
    ledger = source_rows(clean, "training_records")
    # the counting rule, computed here from the cells
    first: dict[tuple, tuple] = {}
    persons: dict[tuple, set] = defaultdict(set)
    for _, _, _, row, _ in ledger:
        ident = norm(row["id_number"]).upper()
        assert id_is_valid(ident)
        start = to_date(row["start_date"])
        code = programme_of(row["programme_name"])
        key = (county_code(row["county"]), ident, code)
        assert key not in first, "one row per person, programme and year"
        first[key] = (start, norm(row["township"]))
        persons[(county_code(row["county"]), norm(row["township"]))].add(ident)
    done: dict[tuple, int] = defaultdict(int)
    for (county, _, code), (start, _) in first.items():
        done[(county, code, start.month)] += 1
    reports = source_rows(clean, "progress_reports")
    county_rows = [r for _, _, _, r, _ in reports if not norm(r.get("township"))]
    assert len(county_rows) == 12 * len(manifest["counties"])
    allocation = {c["county_code"]: c["allocation"] for c in manifest["counties"]}
    for row in county_rows:
        county, month = county_code(row["county"]), int(to_month(row["report_month"])[5:])
        for code in PROGRAMME_CODES:
            expected = sum(done[(county, code, m)] for m in range(1, month + 1))
            assert count(row[f"done_{code.lower()}"]) == expected, (county, code, month)
            assert count(row[f"task_{code.lower()}"]) == allocation[county][code]
    # war maps: target persons per township equal the ledger's distinct persons there
    targets: dict[tuple, int] = defaultdict(int)
    plans: dict[tuple, int] = defaultdict(int)
    for _, _, _, row, _ in source_rows(clean, "war_map_targets"):
        county = county_code(row["county"])
        targets[(county, norm(row["township"]))] += count(row["target_persons"])
        for code in PROGRAMME_CODES:
            plans[(county, code)] += count(row[f"plan_{code.lower()}"])
    assert targets and all(targets[k] == len(persons.get(k, ())) for k in targets)
    assert all(plans[(county, code)] == allocation[county][code] for county, code in plans)
    # village sheets agree with household sheets
    people: dict[tuple, int] = defaultdict(int)
    for _, _, _, row, _ in source_rows(clean, "household_members"):
        people[(county_code(row["county"]), norm(row["township"]), norm(row["village"]))] += 1
    villages = source_rows(clean, "village_statistics")
    assert len(villages) == len(people)
    for _, _, _, row, _ in villages:
        key = (county_code(row["county"]), norm(row["township"]), norm(row["village"]))
        assert count(row["poor_population"]) == people[key]


def test_manifest_plants_every_kind_and_points_at_cells_that_show_it(sample):
    manifest = manifest_of(sample)
    defects = manifest["defects"]
    assert {d["kind"] for d in defects} == KINDS
    assert all(n >= 3 for n in manifest["defect_counts"].values())
    assert not any(d.get("side_effect") for d in defects)
    assert len({d["source_file"] for d in defects}) >= 10
    parsed: dict[tuple, dict] = {}
    raw_cells: dict[tuple, list] = {}
    for source in SOURCES:
        for path, sheet, number, row, raw in source_rows(sample, source):
            parsed[(path, sheet, number)] = row
            raw_cells[(path, sheet, number)] = raw
    ledger = [r for (p, _, _), r in parsed.items() if p.startswith("training_ledgers/")]
    progs = programmes()
    for d in defects:
        key = (d["source_file"], d["sheet"], d["row_number"])
        assert key in parsed, d
        row, entity, kind = parsed[key], d["entity"], d["kind"]
        assert d["source"] == {f["path"]: f["source"] for f in manifest["files"]}[d["source_file"]]
        if "id_number" in entity:
            assert norm(row["id_number"]).upper() == entity["id_number"], d
        if "county_code" in entity:
            assert county_code(row["county"]) == entity["county_code"], d
        if kind == "invalid_id_number":
            assert not id_is_valid(entity["id_number"]) and "E+" not in entity["id_number"]
        elif kind == "rounded_id_number":
            cell = row["id_number"]
            assert isinstance(cell, float) or "E+" in cell, d
        elif kind == "id_region_mismatch":
            assert id_is_valid(entity["id_number"]) and entity["id_number"][:6] != county_code(row["county"])
        elif kind == "unclassified_training_need":
            assert not oracle.need_is_classified(norm(row["training_need"]), norm(row["labour_category"]))
        elif kind in ("course_too_short", "course_too_long"):
            prog = progs[programme_of(row["programme_name"])]
            start = to_date(row["start_date"])
            assert start.isoformat() == entity["start_date"]
            if prog.measured_in_hours:
                length, low, high = count(row["duration_hours"]), prog.min_hours, prog.max_hours
            elif norm(row.get("duration_days")):
                length, low, high = count(row["duration_days"]), prog.min_days, prog.max_days
            else:
                length, low, high = (to_date(row["end_date"]) - start).days + 1, prog.min_days, prog.max_days
            assert length < low if kind == "course_too_short" else length > high, d
        elif kind == "duplicate_training":
            same = [
                r
                for r in ledger
                if norm(r["id_number"]).upper() == entity["id_number"]
                and programme_of(r["programme_name"]) == entity["programme_code"]
            ]
            assert len(same) == 2, d
        elif kind == "institution_not_on_roster":
            assert norm(row["institution"]) == entity["institution"]
        elif kind == "trade_not_approved":
            assert norm(row["trade"]) == entity["trade"]
        elif kind == "institution_qualification_expired":
            assert to_date(row["start_date"]).isoformat() == entity["start_date"]
        elif kind == "village_count_mismatch":
            assert (norm(row["township"]), norm(row["village"])) == (entity["township"], entity["village"])
        elif kind == "target_persons_mismatch":
            assert norm(row["township"]) == entity["township"]
        elif kind in ("report_overclaims_ledger", "report_underclaims_ledger"):
            assert not norm(row.get("township")) and to_month(row["report_month"]) == entity["month"]
        elif kind == "task_inflated":
            column = "plan_" if d["source"] == "war_map_targets" else "task_"
            assert count(row[column + entity["programme_code"].lower()]) > 0


def test_long_xls_sheets_continue_on_a_second_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "XLS_MAX_ROWS", 160)
    manifest = generate("tiny", 3, tmp_path, "all", workers=1, stream=io.StringIO())
    split = [
        f
        for f in manifest["files"]
        if f["format"] == "xls" and any(s["name"].endswith("(2)") for s in f["sheets"])
    ]
    assert split, "some .xls sheet is longer than 100 rows"
    for f in split:
        sheets = read_sheets(tmp_path / f["path"])
        assert all(len(rows) <= 160 for rows in sheets.values())
        assert sum(len(parse(rows, SOURCES[f["source"]])) for rows in sheets.values()) == f["rows"]
    rows = {(p, s, n): r for p, s, n, r, _ in source_rows(tmp_path, "household_members")}
    for d in manifest["defects"]:
        if d["source"] == "household_members":
            assert (
                norm(rows[(d["source_file"], d["sheet"], d["row_number"])]["id_number"]).upper()
                == d["entity"]["id_number"]
            )


def test_need_vocabulary_classifies_every_stated_need_and_none_of_the_vague_ones():
    for code, needs in vocab.NEEDS.items():
        for text, trade in needs:
            assert oracle.need_is_classified(text, vocab.NEW_LABOUR), text
            assert trade in vocab.TRADES[code] or any(trade in t for t in vocab.TRADES.values())
    for text in vocab.UNCLASSIFIABLE_NEEDS:
        assert not oracle.need_is_classified(text, vocab.NEW_LABOUR), text
        assert oracle.need_is_classified(text, vocab.FARMING)


def test_a_broken_ledger_id_is_a_registered_person_or_a_stranger(sample):
    """The truth person matching is scored against: a ledger row's broken ID hides a registered
    member (``true_person``: their right ID, under the name the ledger row carries) or nobody
    (``true_person`` null, planted for both kinds)."""
    manifest = manifest_of(sample)
    members = {
        norm(row["id_number"]).upper(): norm(row["member_name"])
        for _, _, _, row, _ in source_rows(sample, "household_members")
    }
    ledger = {
        (path, sheet, number): row for path, sheet, number, row, _ in source_rows(sample, "training_records")
    }
    broken = [
        d
        for d in manifest["defects"]
        if d["kind"] in ("invalid_id_number", "rounded_id_number") and d["source"] == "training_records"
    ]
    for d in broken:
        truth = d["true_person"]
        if truth is not None:
            name = norm(ledger[(d["source_file"], d["sheet"], d["row_number"])]["trainee_name"])
            assert id_is_valid(truth["id_number"]), d
            assert members.get(truth["id_number"]) == name, d  # registered, under that name
    strangers = [d["kind"] for d in broken if d["true_person"] is None]
    assert set(strangers) == {"invalid_id_number", "rounded_id_number"}
    assert len(strangers) < len(broken)  # most have a registered person behind them
