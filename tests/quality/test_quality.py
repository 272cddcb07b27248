"""Great Expectations suites, the runner behind them, the Dagster checks and dq's privacy."""

from __future__ import annotations

import csv
import json
import re
import socket
import unicodedata
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from orchestration.defs.quality.checks import raw_source_check
from orchestration.lib.quality import gx_runner
from orchestration.lib.quality.catalog import CHECKS
from orchestration.lib.quality.validation_runs import append_run, outcome_of
from orchestration.resources import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from orchestration.sources import LINEAGE_COLUMNS, SOURCES, raw_table_ddl

ID_SHAPED = re.compile(r"\d{17}[\dXx]|(^|\D)\d{15}($|\D)")
VALID_ID = "622922198501011236"  # a valid GB 11643 number (check character 6)


# ---------------------------------------------------------------------------------------------
# the suites as files


def test_every_suite_loads_and_names_its_relation():
    names = gx_runner.suite_names()
    assert set(names) >= set(SOURCES) | {"findings"}
    for name in names:
        suite = gx_runner.load_suite(name)
        assert suite.name == name
        assert suite.meta["relation"].split(".")[0] in ("raw", "dq")
        assert suite.expectations, name
        for expectation in suite.expectations:
            assert expectation.severity.value in ("critical", "warning"), (name, expectation.type)
            assert expectation.description, f"{name}: {expectation.type} has no description for the UI"


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_source_suites_name_only_columns_of_the_contract(source):
    suite = gx_runner.load_suite(source)
    assert suite.meta["asset_key"] == ["raw", source]
    known = set(SOURCES[source].column_names) | set(LINEAGE_COLUMNS)
    for expectation in suite.expectations:
        columns = gx_runner.expectation_columns(expectation.configuration.kwargs)
        assert set(columns) <= known, (source, expectation.type, columns)
    # only the row identity is critical: every other rule flows on to dq.findings
    critical = [e for e in suite.expectations if e.severity.value == "critical"]
    assert [e.configuration.kwargs["column_list"] for e in critical] == [
        ["source_file", "sheet", "row_number"]
    ]


def test_programme_names_in_the_ledger_suite_are_the_seeds():
    seeds = DBT_PROJECT_DIR / "seeds"
    names = {r["name_zh"] for r in csv.DictReader((seeds / "programmes.csv").open(encoding="utf-8"))}
    names |= {
        r["variant"] for r in csv.DictReader((seeds / "programme_name_variants.csv").open(encoding="utf-8"))
    }
    names |= {unicodedata.normalize("NFKC", n) for n in names}
    suite = json.loads((EXPECTATIONS_DIR / "training_records.json").read_text(encoding="utf-8"))
    (in_set,) = [
        e
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "programme_name" and "value_set" in e["kwargs"]
    ]
    assert set(in_set["kwargs"]["value_set"]) == names


def test_catalog_matches_the_findings_model():
    # findings.sql takes titles, order and severity from the catalog seed, as catalog.py does;
    # every check has its model (tests/quality/test_dq_catalog.py holds the rest together)
    sql = (DBT_PROJECT_DIR / "models" / "dq" / "findings.sql").read_text(encoding="utf-8")
    assert "ref('dq_checks')" in sql and "checks.title_zh as check_title_zh" in sql
    for check in CHECKS:
        model = (DBT_PROJECT_DIR / "models" / "dq").rglob(f"{check.name}.sql")
        (path,) = list(model)
        assert f"ref('{check.name}')" in sql, check.name


# ---------------------------------------------------------------------------------------------
# the runner on a warehouse made here


def ledger_row(row_number: int, **values) -> list:
    source = SOURCES["training_records"]
    base = {
        "county": "康乐县", "township": "城关镇", "village": "张家村", "trainee_name": "张三",
        "id_number": VALID_ID, "programme_name": "就业技能培训", "trade": "焊工",
        "institution": "康乐技工学校", "start_date": "2015-03-02", "end_date": "2015-03-20",
        "duration_days": "19", "completed": "是", "certified": "否", "transferred_to_job": "否",
        "fund_source": "就业资金", "trainee_satisfaction": "满意", "subsidy_yuan": "1200",
    }  # fmt: skip
    base.update(values)
    return [base.get(c) for c in source.column_names] + [
        "training_ledgers/康乐.xlsx", "Sheet1", row_number, "0" * 64, "2015-12-01 08:00:00+08", "",
    ]  # fmt: skip


def make_ledger(path: Path, rows: list[list]) -> None:
    source = SOURCES["training_records"]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute(raw_table_ddl(source))
        marks = ", ".join(["?"] * (len(source.column_names) + len(LINEAGE_COLUMNS)))
        con.executemany(f"insert into raw.training_records values ({marks})", rows)


BAD_ROWS = [
    ledger_row(4),
    ledger_row(5, id_number="6.22922198501E+17"),  # rounded by Excel
    ledger_row(6, id_number=VALID_ID[:-1]),  # 17 characters
    ledger_row(7, county=None),
    ledger_row(8, end_date="2015-02-01"),  # ends before it starts
    ledger_row(9, trainee_satisfaction="很好"),
    ledger_row(10, duration_days="5000"),
    ledger_row(11, programme_name="电焊班"),
]


def outcome(run: gx_runner.SuiteRun, expectation_type: str, column: str) -> gx_runner.ExpectationOutcome:
    (found,) = [o for o in run.outcomes if o.expectation_type == expectation_type and column in o.columns]
    return found


def test_runner_counts_each_bad_value_once(tmp_path):
    make_ledger(tmp_path / "w.duckdb", BAD_ROWS)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        run = gx_runner.run_suite(con, gx_runner.load_suite("training_records"))
    assert run.rows == len(BAD_ROWS)
    assert outcome(run, "expect_column_values_to_match_regex", "id_number").unexpected_count == 2
    assert outcome(run, "expect_column_values_to_not_be_null", "county").unexpected_count == 1
    assert outcome(run, "expect_column_pair_values_a_to_be_greater_than_b", "end_date").unexpected_count == 1
    assert outcome(run, "expect_column_values_to_be_in_set", "trainee_satisfaction").unexpected_count == 1
    assert outcome(run, "expect_column_values_to_be_between", "duration_days").unexpected_count == 1
    assert outcome(run, "expect_column_values_to_be_in_set", "programme_name").unexpected_count == 1
    assert outcome(run, "expect_compound_columns_to_be_unique", "row_number").success
    failed = {(o.expectation_type, o.columns) for o in run.failed}
    assert len(failed) == 6
    assert outcome_of(run) == "warn"  # nothing critical: the rows flow on to dq.findings

    # examples point at the row and never show an ID in full
    id_examples = outcome(run, "expect_column_values_to_match_regex", "id_number").examples
    assert {e["row_number"] for e in id_examples} == {5, 6}
    assert all(
        not ID_SHAPED.search(json.dumps(e, ensure_ascii=False)) for o in run.outcomes for e in o.examples
    )
    assert "622922*******1123" in [e["id_number"] for e in id_examples]


def test_chunked_validation_sums_to_the_whole(tmp_path):
    make_ledger(tmp_path / "w.duckdb", BAD_ROWS)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        suite = gx_runner.load_suite("training_records")
        whole = gx_runner.run_suite(con, suite, chunk_rows=10**6)
        chunked = gx_runner.run_suite(con, suite, chunk_rows=2048)  # DuckDB hands out 2048-row vectors
        tiny = gx_runner.run_suite(con, suite, chunk_rows=1)
    for other in (chunked, tiny):
        assert [
            (o.expectation_type, o.columns, o.success, o.unexpected_count, o.element_count)
            for o in other.outcomes
        ] == [
            (o.expectation_type, o.columns, o.success, o.unexpected_count, o.element_count)
            for o in whole.outcomes
        ]


def test_a_sheet_row_loaded_twice_is_critical(tmp_path):
    make_ledger(tmp_path / "w.duckdb", [ledger_row(4), ledger_row(4), ledger_row(5)])
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        run = gx_runner.run_suite(con, gx_runner.load_suite("training_records"))
    assert outcome_of(run) == "error"
    assert [o.expectation_type for o in run.failed_critical] == ["expect_compound_columns_to_be_unique"]
    assert run.failed_critical[0].unexpected_count == 2


def test_gx_needs_no_network_and_writes_no_file(tmp_path, monkeypatch):
    make_ledger(tmp_path / "w.duckdb", BAD_ROWS)
    calls = []
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            calls.append(address)
            raise OSError(f"network is cut off in this test: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        run = gx_runner.run_suite(con, gx_runner.load_suite("training_records"))
    assert run.evaluated > 0 and all(o.error is None for o in run.outcomes)
    assert calls == []
    assert list(work.iterdir()) == []  # no gx/ folder, no Data Docs


def test_validation_runs_are_appended(tmp_path):
    make_ledger(tmp_path / "w.duckdb", BAD_ROWS)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        run = gx_runner.run_suite(con, gx_runner.load_suite("training_records"))
        append_run(con, run, run_id="first", asset_key="raw/training_records", data_month="2015-09")
        append_run(con, run, run_id="second", asset_key="raw/training_records", data_month="2015-10")
        rows = con.execute(
            "select run_id, data_month, passed, outcome, rows_validated, evaluated_expectations, "
            "failed_expectations, unexpected_count, expectations_json from dq.validation_runs order by run_id"
        ).fetchall()
    assert [r[:8] for r in rows] == [
        ("first", "2015-09", False, "warn", 8, run.evaluated, 6, run.unexpected_total),
        ("second", "2015-10", False, "warn", 8, run.evaluated, 6, run.unexpected_total),
    ]
    stored = json.loads(rows[0][8])
    assert len(stored) == run.evaluated and not ID_SHAPED.search(rows[0][8])


# ---------------------------------------------------------------------------------------------
# uniqueness counted by DuckDB, row counts and examples: the same answers as GX's own


def ledger_suite(*expectations: tuple[str, dict]) -> ExpectationSuite:
    """A suite on the ledger table, with the ledger suite's index and personal columns."""
    meta = gx_runner.load_suite("training_records").meta
    return ExpectationSuite(
        name="ledger_test",
        expectations=[ExpectationConfiguration(type=kind, kwargs=kwargs) for kind, kwargs in expectations],
        meta={k: meta[k] for k in ("relation", "index_columns", "personal_columns", "column_types")},
    )


def gx_on_the_whole_table(con: duckdb.DuckDBPyConnection, kind: str, kwargs: dict):
    """GX itself, through its public API, on the whole table as one pandas frame."""
    frame = con.execute("select * from raw.training_records").df()
    batch = (
        gx_runner.ephemeral_context()
        .data_sources.add_pandas("reference")
        .add_dataframe_asset("whole_table")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    configuration = ExpectationConfiguration(type=kind, kwargs=kwargs)
    return batch.validate(configuration.to_domain_obj(), result_format="SUMMARY")


SECOND_ID = "622922199002021234"


def test_a_sheet_row_loaded_three_times_counts_every_copy(tmp_path):
    rows = [ledger_row(4), ledger_row(4), ledger_row(4), ledger_row(5), ledger_row(5), ledger_row(6)]
    make_ledger(tmp_path / "w.duckdb", rows)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        run = gx_runner.run_suite(con, gx_runner.load_suite("training_records"))
    (unique,) = [o for o in run.outcomes if o.expectation_type == "expect_compound_columns_to_be_unique"]
    assert (unique.success, unique.element_count, unique.unexpected_count) == (False, 6, 5)
    assert unique.unexpected_percent == pytest.approx(5 / 6 * 100)
    # the copies of the first repeated keys, side by side
    assert [e["row_number"] for e in unique.examples] == [4, 4, 4, 5, 5]
    assert {e["source_file"] for e in unique.examples} == {"training_ledgers/康乐.xlsx"}


def test_a_repeated_id_number_is_counted_and_shown_masked(tmp_path):
    rows = [
        ledger_row(4),
        ledger_row(5),  # the same person as row 4
        ledger_row(6, id_number=SECOND_ID),
        ledger_row(7, id_number=None),
        ledger_row(8, id_number=None),  # missing, not repeated
    ]
    make_ledger(tmp_path / "w.duckdb", rows)
    suite = ledger_suite(("expect_column_values_to_be_unique", {"column": "id_number"}))
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        (outcome,) = gx_runner.run_suite(con, suite).outcomes
    assert (outcome.success, outcome.element_count, outcome.unexpected_count) == (False, 5, 2)
    assert outcome.missing_count == 2
    assert outcome.unexpected_percent == pytest.approx(2 / 3 * 100)
    assert [(e["row_number"], e["id_number"]) for e in outcome.examples] == [
        (4, "622922********1236"),
        (5, "622922********1236"),
    ]
    assert not ID_SHAPED.search(json.dumps(outcome.examples, ensure_ascii=False))


# township and village: repeated, repeated with one value missing, all missing, unique
KEYED_ROWS = [
    ("城关镇", "张家村"), ("城关镇", "张家村"),
    ("城关镇", None), ("城关镇", None),
    (None, None), (None, None), (None, None),
    (None, "李家村"),
    ("新集镇", "王家村"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        ("expect_compound_columns_to_be_unique", {"column_list": ["township", "village"]}),
        (
            "expect_compound_columns_to_be_unique",
            {"column_list": ["township", "village"], "ignore_row_if": "any_value_is_missing"},
        ),
        (
            "expect_compound_columns_to_be_unique",
            {"column_list": ["township", "village"], "ignore_row_if": "never"},
        ),
        ("expect_column_values_to_be_unique", {"column": "village"}),
        ("expect_column_values_to_be_unique", {"column": "village", "mostly": 0.5}),
        ("expect_column_values_to_be_unique", {"column": "village", "mostly": 0.9}),
        ("expect_column_values_to_be_unique", {"column": "id_number"}),
        ("expect_table_row_count_to_equal", {"value": len(KEYED_ROWS)}),
        ("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 3}),
    ],
    ids=lambda value: value if isinstance(value, str) else "-".join(map(str, value.values())),
)
def test_duckdb_and_gx_give_the_same_answer(tmp_path, kind, kwargs):
    rows = [ledger_row(n, township=t, village=v) for n, (t, v) in enumerate(KEYED_ROWS, start=4)]
    make_ledger(tmp_path / "w.duckdb", rows)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        (ours,) = gx_runner.run_suite(con, ledger_suite((kind, kwargs))).outcomes
        gx = gx_on_the_whole_table(con, kind, kwargs)
    assert ours.error is None
    assert ours.success == gx.success
    if "unexpected_count" in gx.result:
        assert (ours.element_count, ours.unexpected_count, ours.missing_count) == (
            gx.result["element_count"],
            gx.result["unexpected_count"],
            gx.result["missing_count"],
        )
        assert ours.unexpected_percent == pytest.approx(gx.result["unexpected_percent"])
    else:  # a row count: GX reports the count it saw
        assert gx.result["observed_value"] == len(KEYED_ROWS)
        assert ours.examples == (() if gx.success else ({"observed_value": len(KEYED_ROWS)},))


def test_the_answers_above_are_not_all_alike(tmp_path):
    """The parametrised comparison could pass on a table where every rule holds: it does not."""
    rows = [ledger_row(n, township=t, village=v) for n, (t, v) in enumerate(KEYED_ROWS, start=4)]
    make_ledger(tmp_path / "w.duckdb", rows)
    suite = ledger_suite(
        ("expect_compound_columns_to_be_unique", {"column_list": ["township", "village"]}),
        (
            "expect_compound_columns_to_be_unique",
            {"column_list": ["township", "village"], "ignore_row_if": "never"},
        ),
        ("expect_column_values_to_be_unique", {"column": "village", "mostly": 0.5}),
    )
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        run = gx_runner.run_suite(con, suite)
    assert [(o.success, o.unexpected_count, o.missing_count) for o in run.outcomes] == [
        (False, 4, 3),
        (False, 7, 0),
        (True, 2, 5),
    ]


def test_a_view_gives_the_same_outcomes_and_examples_as_its_table(tmp_path):
    make_ledger(tmp_path / "w.duckdb", [*BAD_ROWS, ledger_row(4)])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create view raw.ledger_view as select * from raw.training_records")
        suite = gx_runner.load_suite("training_records")
        on_table = gx_runner.run_suite(con, suite)
        on_view = gx_runner.run_suite(con, suite, relation="raw.ledger_view")
    assert on_view.outcomes == on_table.outcomes
    assert on_table.failed and all(o.examples for o in on_table.failed)
    assert all({"source_file", "sheet", "row_number"} <= set(e) for o in on_table.failed for e in o.examples)


def test_duckdb_memory_limit_is_lowered_for_the_run_and_given_back(tmp_path):
    make_ledger(tmp_path / "w.duckdb", [ledger_row(4), ledger_row(4)])
    shown = "select current_setting('memory_limit')"
    with duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "3GB"}) as con:
        before = con.execute(shown).fetchone()[0]
        with gx_runner._memory_limit(con, gx_runner.DUCKDB_MEMORY_MIB):
            assert con.execute(shown).fetchone()[0] == f"{gx_runner.DUCKDB_MEMORY_MIB:.1f} MiB"
        for _ in range(3):  # no drift from run to run
            assert gx_runner.run_suite(con, gx_runner.load_suite("training_records")).failed_critical
            assert con.execute(shown).fetchone()[0] == before
    with duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "100MB"}) as con:
        before = con.execute(shown).fetchone()[0]
        with gx_runner._memory_limit(con, gx_runner.DUCKDB_MEMORY_MIB):  # already lower: left alone
            assert con.execute(shown).fetchone()[0] == before


# ---------------------------------------------------------------------------------------------
# the Dagster checks: blocking on critical failures only


def _pipeline(rows: list[list], warehouse: Path):
    raw_key = dg.AssetKey(["raw", "training_records"])

    @dg.asset(key=raw_key)
    def raw_training_records():
        if warehouse.exists():
            warehouse.unlink()
        make_ledger(warehouse, rows)

    @dg.asset(key=["staging", "downstream"], deps=[raw_key])
    def downstream():
        return None

    return [raw_training_records, downstream, raw_source_check("training_records")]


@pytest.mark.parametrize(
    ("rows", "warning_passed", "critical_severity", "downstream_runs"),
    [
        ([ledger_row(4), ledger_row(5, id_number="6.2E+17")], False, None, True),
        ([ledger_row(4), ledger_row(4)], True, dg.AssetCheckSeverity.ERROR, False),
    ],
    ids=["warning-flows-on", "row-loaded-twice-blocks"],
)
def test_raw_checks_block_only_on_critical_failures(
    tmp_path, rows, warning_passed, critical_severity, downstream_runs
):
    """One suite run, two checks: the warnings never block, the critical expectations do."""
    from orchestration.resources import WarehouseResource

    warehouse = tmp_path / "training.duckdb"
    result = dg.materialize(
        _pipeline(rows, warehouse),
        resources={"warehouse": WarehouseResource(database=str(warehouse))},
        raise_on_error=False,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"gx_training_records", "gx_training_records_critical"}
    warnings, critical = evaluations["gx_training_records"], evaluations["gx_training_records_critical"]
    assert warnings.blocking is False and critical.blocking is True
    assert warnings.passed is warning_passed and warnings.severity == dg.AssetCheckSeverity.WARN
    assert critical.passed is (critical_severity is None)
    if critical_severity is not None:
        assert critical.severity == critical_severity
    for evaluation in evaluations.values():
        assert evaluation.metadata["rows_validated"].value == len(rows)
    assert warnings.metadata["expectations_failed_critical"].value == 0
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert (dg.AssetKey(["staging", "downstream"]) in materialized) is downstream_runs
    with duckdb.connect(str(warehouse), read_only=True) as con:  # the suite ran once
        assert con.execute("select suite, outcome from dq.validation_runs").fetchall() == [
            ("training_records", "warn" if critical_severity is None else "error")
        ]


def test_a_suite_that_cannot_run_warns_on_both_checks_and_blocks_nothing(tmp_path):
    from orchestration.resources import WarehouseResource

    @dg.asset(key=["raw", "training_records"])
    def raw_training_records():
        return None  # no table: the suite cannot run

    @dg.asset(key=["staging", "downstream"], deps=[raw_training_records])
    def downstream():
        return None

    result = dg.materialize(
        [raw_training_records, downstream, raw_source_check("training_records")],
        resources={"warehouse": WarehouseResource(database=str(tmp_path / "training.duckdb"))},
        raise_on_error=False,
    )
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {"gx_training_records", "gx_training_records_critical"}
    assert all(not e.passed and e.severity == dg.AssetCheckSeverity.WARN for e in evaluations)
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["staging", "downstream"]) in materialized


def test_each_check_blocks_exactly_when_it_can_fail_with_error():
    """From the definitions: a check is labelled blocking if and only if it can fail with ERROR.

    - GX: ``gx_<suite>_critical`` holds the suite's critical expectations and is blocking;
      ``gx_<suite>`` holds the others (warnings: WARN at most) and is not. Every suite has both.
    - dbt tests (dagster-dbt): blocking exactly when the test's severity is error (an error test
      that fails fails the dbt step; a warn test reports WARN).
    - ingest_clean: a failed file never stops the run (it is a finding), so WARN and not blocking.
    """
    from orchestration.definitions import build_definitions
    from orchestration.lib.quality.suites import expectation_severity, suite_json
    from orchestration.lib.transform.project import dbt_project

    graph = build_definitions(None).resolve_asset_graph()
    specs = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    tests = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}

    gx = {name: key for key, name in ((k, k.name) for k in specs) if name.startswith("gx_")}
    for suite in gx_runner.suite_names():
        severities = {expectation_severity(e) for e in suite_json(suite)["expectations"]}
        assert "critical" in severities and severities - {"critical"}, suite
        warnings, critical = specs[gx[f"gx_{suite}"]], specs[gx[f"gx_{suite}_critical"]]
        assert (warnings.blocking, critical.blocking) == (False, True), suite
        assert warnings.asset_key == critical.asset_key
    assert len(gx) == 2 * len(gx_runner.suite_names())

    for key, spec in specs.items():
        if key.name.startswith("gx_"):
            continue
        if key.name == "ingest_clean":
            assert spec.blocking is False
        else:
            test = tests[key.name]
            assert spec.blocking is (test["config"]["severity"].lower() == "error"), key


def test_ingest_clean_warns_and_never_blocks():
    from orchestration.defs.ingest.assets import raw_sources

    assert {spec.blocking for spec in raw_sources.check_specs} == {False}


# ---------------------------------------------------------------------------------------------
# on the sample build


def test_every_suite_ran_as_a_check_in_the_sample_build(sample_build):
    everything = sample_build.result.get_asset_check_evaluations()
    evaluations = {e.check_name: e for e in everything}
    expected = {f"gx_{name}{part}" for name in gx_runner.suite_names() for part in ("", "_critical")}
    assert expected <= set(evaluations)
    # no critical rule fails on the sample; every warning is WARN and not blocking
    assert all(evaluations[f"gx_{name}_critical"].passed for name in gx_runner.suite_names())
    # what failed on the sample (GX warnings, the ingest, dbt tests) failed with WARN and is not
    # blocking: nothing failed with ERROR
    failed = [e for e in everything if not e.passed]
    assert failed and [e.check_name for e in failed if e.severity != dg.AssetCheckSeverity.WARN] == []
    assert [e.check_name for e in failed if e.blocking] == []
    # the sample has planted defects: the reconciliations and the ID format see them
    assert not evaluations["gx_reconcile_reported_progress"].passed
    assert not evaluations["gx_training_records"].passed
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        runs = con.execute(
            "select suite from dq.validation_runs where run_id = ?", [sample_build.result.run_id]
        ).fetchall()
        (findings,) = con.execute("select count(*) from dq.findings").fetchone()
    assert sorted(r[0] for r in runs) == sorted(gx_runner.suite_names())
    assert evaluations["gx_findings"].metadata["findings"].value == findings > 0


def test_reconciliation_suites_agree_with_the_findings(sample_build):
    """GX states each reconciliation rule independently of the SQL that makes the findings:
    the unexpected rows GX counts are the findings dbt made."""
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        counts = dict(con.execute("select check_name, count(*) from dq.findings group by all").fetchall())
        progress = gx_runner.run_suite(con, gx_runner.load_suite("reconcile_reported_progress"))
        tasks = gx_runner.run_suite(con, gx_runner.load_suite("reconcile_tasks"))
    pairs = {o.columns: o.unexpected_count for o in progress.outcomes if len(o.columns) == 2}
    assert pairs[("ledger_done", "reported_done")] == counts["report_overclaims_ledger"]
    assert pairs[("reported_done", "ledger_done")] == counts["report_underclaims_ledger"]
    inflated = {
        o.columns[1]: o.unexpected_count
        for o in tasks.outcomes
        if o.columns[:1] == ("allocation",) and len(o.columns) == 2
    }
    assert 0 < max(inflated.values()) <= counts["task_inflated"] <= sum(inflated.values())


def test_dq_holds_no_id_number_and_no_name(sample_build):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        names = {
            r[0]
            for r in con.execute(
                "select member_name from raw.household_members "
                "union select trainee_name from raw.training_records"
            ).fetchall()
            if r[0]
        }
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'dq' and data_type = 'VARCHAR'"
        ).fetchall()
        assert columns
        for table, column in columns:
            values = [
                r[0] for r in con.execute(f'select distinct "{column}" from dq."{table}"').fetchall() if r[0]
            ]
            assert not [v for v in values if ID_SHAPED.search(v)], f"dq.{table}.{column}"
            assert not set(values) & names, f"dq.{table}.{column} holds a name"
        # and no detail mentions the name of the person its row is about
        leaks = con.execute(
            """
            with people as (
                select source_file, sheet, row_number, member_name as person_name from raw.household_members
                union all
                select source_file, sheet, row_number, trainee_name from raw.training_records
            )
            select findings.detail, people.person_name
            from dq.findings as findings
            inner join people using (source_file, sheet, row_number)
            where contains(findings.detail, people.person_name)
            """
        ).fetchall()
    assert leaks == []
