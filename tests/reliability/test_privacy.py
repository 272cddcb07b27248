"""Personal data: none in the analysts' snapshot or any province-level output; city reports
hold masked ID numbers only, and only their own city's rows; production without a secret key
does not run.

The names looked for are every person name of the sample's raw files (members, heads of
household, trainees: ~3,300); the ID shapes are 18 characters (17 digits and a digit or X) and
15 digits standing alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.transform.project import dbt_executable
from orchestration.resources import DBT_PROJECT_DIR, DEV_PII_KEY, pii_key
from tests.support.bad_input_files import TRAINING, training
from tests.support.ingest_cases import households, table, write_csv, write_xlsx
from tests.support.reliability_helpers import (
    ID_15,
    ID_18,
    checksums,
    column_values,
    database_texts,
    html_tables,
    html_texts,
    personal_data_in_texts,
    raw_person_names,
    run_env,
    run_pipeline,
    workbook_texts,
)

PROVINCE_CODE = "620000"
# A masked ID: the first 6 and last 4 characters kept (mask_id), or a rounded one's E+ form.
MASKED_ID = re.compile(r"^(\d{6}\*+[\dXx]{4}|\d\.\d{0,4}\*+E\+\d+|\**)$")


@pytest.fixture(scope="module")
def names(sample_build) -> set[str]:
    found = raw_person_names(sample_build.settings.warehouse)
    assert len(found) > 1000
    return found


@pytest.fixture(scope="module")
def reports(sample_build) -> dict[str, list[Path]]:
    """'province' and each city code → its report files (xlsx and html) over all months."""
    by_owner: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(sample_build.settings.reports_dir.rglob("*")):
        if path.suffix in (".xlsx", ".html"):
            code = path.name.split("_")[0]
            by_owner["province" if code == PROVINCE_CODE else code].append(path)
    return by_owner


def texts_of(path: Path) -> list[str]:
    return list(workbook_texts(path)) if path.suffix == ".xlsx" else html_texts(path)


def test_snapshot_holds_no_id_number_and_no_name(sample_build, names):
    snapshot = sample_build.settings.analytics_db
    with duckdb.connect(str(snapshot), read_only=True) as con:
        schemas = [
            s
            for (s,) in con.execute(
                "select distinct schema_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        ]
    assert set(schemas) == {"marts", "dq"}, schemas
    texts = list(database_texts(snapshot, schemas))
    assert len(texts) > 5000  # the scan really read the tables
    assert personal_data_in_texts(texts, names) == []


def test_warehouse_marts_and_dq_hold_no_id_number_and_no_name(sample_build, names):
    texts = list(database_texts(sample_build.settings.warehouse, ("marts", "dq")))
    assert personal_data_in_texts(texts, names) == []


def test_the_scan_finds_what_it_looks_for(sample_build, names):
    """The scan is not blind: a raw name, an ID and an old ID in a sentence are all found."""
    name = sorted(names)[0]
    hits = personal_data_in_texts(
        [
            f"学员{name}重复培训",
            "号码 62292219900101001X 有误",
            "旧证 622922900101001。",
            "622901********3273",
        ],
        names,
    )
    assert len(hits) == 3, hits


def test_province_summary_reports_hold_no_id_number_and_no_name(reports, names):
    files = reports["province"]
    assert {p.suffix for p in files} == {".xlsx", ".html"}, files
    for path in files:
        assert personal_data_in_texts(texts_of(path), names) == [], path


def city_people(warehouse: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Each city's county names (and codes), and each city's people: the names in its rows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counties = con.execute(
            "select city_code, region_code, name_zh from reference.regions where level = 'county'"
        ).fetchall()
        people = con.execute(
            """
            select member_name, city_code from staging.stg_household_sheets__members union
            select head_name, city_code from staging.stg_household_sheets__members union
            select trainee_name, city_code from staging.stg_training_ledgers__records
            """
        ).fetchall()
    county_names: dict[str, set[str]] = defaultdict(set)
    for city, code, name in counties:
        county_names[city] |= {code, name}
    people_of: dict[str, set[str]] = defaultdict(set)
    for name, city in people:
        if name:
            people_of[city].add(name.strip())
    return county_names, people_of


def test_city_reports_show_masked_ids_and_only_their_own_citys_rows(sample_build, reports):
    county_names, people_of = city_people(sample_build.settings.warehouse)
    cities = sorted(code for code in reports if code != "province")
    assert len(cities) >= 2, cities
    listed_people = masked_seen = 0
    for city in cities:
        # names that occur in other cities' rows only
        others = set().union(*(p for code, p in people_of.items() if code != city)) - people_of[city]
        assert others, "no name belongs to another city only: the check would prove nothing"
        own_counties = county_names[city] | {"合计", ""}
        for path in reports[city]:
            texts = texts_of(path)
            ids = [t for t in texts if ID_18.search(t) or ID_15.search(t)]
            assert ids == [], (path, ids[:3])
            for rows in sheets_or_tables(path):
                cells = {str(v).strip() for row in rows for v in row if v not in (None, "")}
                assert not cells & others, (path, sorted(cells & others)[:3])
                listed = {v for v in column_values(rows, "姓名") if v}
                assert listed <= people_of[city], (path, sorted(listed - people_of[city])[:3])
                listed_people += len(listed)
                shown = column_values(rows, "身份证号码（部分隐藏）")
                bad = [v for v in shown if not MASKED_ID.match(v)]
                assert bad == [], (path, bad[:3])
                masked_seen += sum("*" in v for v in shown)
                strays = set(column_values(rows, "县区")) - own_counties
                assert not strays, (path, strays)
    # the reports really list people, with masked IDs
    assert listed_people > 20 and masked_seen > 20, (listed_people, masked_seen)


def sheets_or_tables(path: Path) -> list[list[list]]:
    if path.suffix == ".html":
        return html_tables(path)
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as workbook:
        return [workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names]


def test_every_city_with_data_has_its_report_each_month(sample_build, reports):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        rows = con.execute("select distinct city_code from marts.mart_target_attainment_monthly").fetchall()
    cities = {c for (c,) in rows}
    assert cities and cities <= set(reports), (cities, sorted(reports))
    months = {p.parent.name for p in reports["province"]}
    for city in cities:
        assert {p.parent.name for p in reports[city] if p.suffix == ".xlsx"} == months, city
        assert {p.parent.name for p in reports[city] if p.suffix == ".html"} == months, city


# --- production without a secret key ----------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_production_without_a_key_refuses_to_give_one(monkeypatch, value):
    monkeypatch.setenv("TRAINING_ENV", "production")
    if value is None:
        monkeypatch.delenv("TRAINING_PII_KEY", raising=False)
    else:
        monkeypatch.setenv("TRAINING_PII_KEY", value)
    with pytest.raises(RuntimeError, match="TRAINING_PII_KEY is not set but TRAINING_ENV=production"):
        pii_key()


def test_key_in_production_and_default_in_development(monkeypatch):
    monkeypatch.setenv("TRAINING_ENV", "production")
    monkeypatch.setenv("TRAINING_PII_KEY", "a-real-secret")
    assert pii_key() == "a-real-secret"
    monkeypatch.setenv("TRAINING_ENV", "development")
    monkeypatch.delenv("TRAINING_PII_KEY")
    assert pii_key() == DEV_PII_KEY


def production_env(root: Path, raw: Path) -> dict[str, str]:
    env = run_env(root, raw, TRAINING_ENV="production")
    env.pop("TRAINING_PII_KEY", None)
    return env


@pytest.mark.slow
def test_make_run_in_production_without_a_key_stops_with_a_clear_message(tmp_path):
    raw = tmp_path / "raw"
    write_xlsx(raw / "household_sheets" / "户表.xlsx", {"S": households(3)})
    write_csv(raw / "training_ledgers" / "台账.csv", table(TRAINING, [training(i) for i in range(3)]))
    env = production_env(tmp_path / "out", raw)
    outcome = run_pipeline(env, timeout=600)
    assert outcome.returncode == 1, outcome.output[-3000:]
    assert "TRAINING_PII_KEY is not set but TRAINING_ENV=production" in outcome.output
    # stopped before reading anything: no warehouse, nothing pseudonymised with the public key
    assert not Path(env["TRAINING_WAREHOUSE"]).exists()
    assert not Path(env["TRAINING_ANALYTICS_DB"]).exists()
    assert not list(Path(env["TRAINING_REPORTS_DIR"]).rglob("*.xlsx"))


@pytest.mark.slow
def test_dbt_alone_in_production_without_a_key_fails_and_keeps_the_tables(sample_build, tmp_path):
    """Run by hand (`dbt build` in dbt_project/), the plugin refuses the development key too."""
    warehouse = tmp_path / "training.duckdb"
    shutil.copyfile(sample_build.settings.warehouse, warehouse)
    before = checksums(warehouse, ("marts",))
    env = {k: v for k, v in os.environ.items() if k != "TRAINING_PII_KEY"}
    env |= {
        "TRAINING_ENV": "production",
        "TRAINING_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [dbt_executable(), "build", "--select", "dim_trainee"]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    result = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode != 0
    assert "TRAINING_PII_KEY is not set but TRAINING_ENV=production" in result.stdout + result.stderr
    assert checksums(warehouse, ("marts",)) == before
