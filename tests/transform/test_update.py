"""`make run` rebuilds only what changed (orchestration/cli/run.py, orchestration/cli/build_state.py).

On a copy of the session's sample build (whose full_refresh recorded a complete build): a run
with nothing new plans nothing; a new county ledger rebuilds what is downstream of
raw.training_records and nothing of the household sheets; and the result equals a full
rebuild of the same raw folder, table by table.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest.pipeline import files_to_ingest
from orchestration.lib.publish.snapshot import publish_snapshot, record_path
from orchestration.resources import Settings
from tests.conftest import SAMPLE_RAW_DIR, build_env
from tests.support.reliability_helpers import checksums, differing

pytestmark = pytest.mark.slow

HOUSEHOLD_ONLY_MODELS = {
    "staging/int_household_id_numbers_validated",
    "staging/int_household_members_resolved",
    "staging/int_training_needs_classified",
    "staging/int_households_profiled",
}


@dataclass(frozen=True)
class Updates:
    nothing: object  # UpdateOutcome of a run with no new file
    changed: object  # UpdateOutcome after the new ledger
    pending: tuple[int | None, int | None]  # files_to_ingest before the first run, and with the new ledger
    incremental: Settings
    full: Settings


def _copy_build(source: Settings, root: Path, raw_dir: Path) -> dict[str, str]:
    env = build_env(root, raw_dir)
    Path(env["TRAINING_WAREHOUSE"]).parent.mkdir(parents=True)
    shutil.copyfile(source.warehouse, env["TRAINING_WAREHOUSE"])
    # the snapshot as published, with its record and its time, so the next publish builds on it
    for published in (source.analytics_db, record_path(source.analytics_db)):
        shutil.copy2(published, Path(env["TRAINING_ANALYTICS_DB"]).with_name(published.name))
    shutil.copytree(source.reports_dir, env["TRAINING_REPORTS_DIR"])
    return env


def _update(env: dict[str, str], force_full: bool = False):
    from orchestration.cli.run import run_update

    settings = Settings(
        raw_dir=Path(env["TRAINING_RAW_DIR"]),
        warehouse=Path(env["TRAINING_WAREHOUSE"]),
        analytics_db=Path(env["TRAINING_ANALYTICS_DB"]),
        reports_dir=Path(env["TRAINING_REPORTS_DIR"]),
        dagster_home=Path(env["DAGSTER_HOME"]),
    )
    return settings, run_update(settings, force_full=force_full, log=lambda _: None)


@pytest.fixture(scope="module")
def updates(sample_build, tmp_path_factory) -> Updates:
    from bench.world import write_next_month_ledger

    root = tmp_path_factory.mktemp("update")
    raw_dir = root / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw_dir)
    env = _copy_build(sample_build.settings, root / "incremental", raw_dir)
    warehouse = Path(env["TRAINING_WAREHOUSE"])
    pending = [files_to_ingest(raw_dir, warehouse)]
    _, nothing = _update(env)

    write_next_month_ledger(SAMPLE_RAW_DIR, raw_dir, root / "scratch")
    pending.append(files_to_ingest(raw_dir, warehouse))
    incremental, changed = _update(env)

    # The same raw folder, everything rebuilt: what the incremental result must equal.
    full_env = _copy_build(incremental, root / "full", raw_dir)
    full, rebuilt = _update(full_env, force_full=True)
    assert rebuilt.success and rebuilt.plan.mode == "full"
    return Updates(nothing, changed, tuple(pending), incremental, full)


def materialised(outcome) -> set[str]:
    return {
        event.asset_key.to_user_string()
        for result in outcome.results
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION"
    }


def test_nothing_new_plans_nothing_and_starts_no_run(updates: Updates):
    """No file to ingest and the last build is of this code: neither Dagster nor dbt starts."""
    assert updates.pending[0] == 0
    assert updates.nothing.success
    assert updates.nothing.plan.mode == "nothing"
    assert "no file changed" in updates.nothing.plan.reason
    assert updates.nothing.results == []


def test_a_new_file_is_seen_before_any_run_starts(updates: Updates):
    assert updates.pending[1] == 1  # the new ledger: ingest runs, then the rebuild
    assert updates.changed.plan.mode == "changed" and len(updates.changed.results) == 2


def test_files_to_ingest_cannot_tell_without_a_warehouse(tmp_path):
    assert files_to_ingest(SAMPLE_RAW_DIR, tmp_path / "none.duckdb") is None
    assert files_to_ingest(tmp_path / "no raw", tmp_path / "none.duckdb") is None


def test_new_ledger_rebuilds_only_what_is_downstream_of_the_ledgers(updates: Updates):
    outcome = updates.changed
    assert outcome.success
    assert outcome.plan.mode == "changed"
    assert outcome.plan.changed_sources == ("training_records",)
    built = materialised(outcome)
    for key in (
        "staging/stg_training_ledgers__records",
        "staging/int_ledger_id_numbers_validated",
        "marts/fct_training_enrolments",
        "marts/mart_target_attainment_monthly",
        "dq/findings",
        "reports/city_quality_reports",
        "publish/analytics_snapshot",
    ):
        assert key in built, key
    assert not built & HOUSEHOLD_ONLY_MODELS
    assert "marts/fct_task_allocations" not in built  # task allocations did not change
    checks = {
        event.asset_check_evaluation_data.check_name
        for result in outcome.results
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert "gx_training_records" in checks and "gx_household_members" not in checks


def test_a_successful_update_is_recorded_and_the_next_plans_nothing(updates: Updates):
    from orchestration.cli.build_state import plan_build

    with duckdb.connect(str(updates.incremental.warehouse), read_only=True) as con:
        modes = [m for (m,) in con.execute("select mode from audit.builds order by finished_at").fetchall()]
    assert modes == ["full", "changed"]  # the session build's full_refresh, then this update
    assert plan_build(updates.incremental.warehouse).mode == "nothing"


def test_incremental_result_equals_a_full_rebuild(updates: Updates):
    incremental = checksums(updates.incremental.warehouse)
    full = checksums(updates.full.warehouse)
    assert len(incremental) >= 20
    # dq.validation_runs is a log, one row per suite run: the full rebuild ran every suite again
    assert incremental.pop("dq.validation_runs") != full.pop("dq.validation_runs")
    assert differing(incremental, full) == {}


def test_the_update_validated_only_what_it_rebuilt(updates: Updates):
    with duckdb.connect(str(updates.incremental.warehouse), read_only=True) as con:
        (last_run,) = con.execute(
            "select run_id from dq.validation_runs order by validated_at desc limit 1"
        ).fetchone()
        suites = {
            s
            for (s,) in con.execute(
                "select suite from dq.validation_runs where run_id = ?", [last_run]
            ).fetchall()
        }
    # reconcile_tasks reads the ledger too (task_inflated points at the village that trained least)
    assert {"training_records", "findings", "reconcile_tasks"} <= suites
    assert not suites & {"household_members", "village_statistics", "task_allocations"}


def test_snapshot_of_the_update_holds_the_new_ledger(updates: Updates):
    query = "select count(*) from marts.fct_training_enrolments"
    with duckdb.connect(str(updates.incremental.analytics_db), read_only=True) as con:
        (published,) = con.execute(query).fetchone()
    with duckdb.connect(str(updates.incremental.warehouse), read_only=True) as con:
        (built,) = con.execute(query).fetchone()
    assert published == built


def test_the_updated_snapshot_took_the_changed_rows_only_and_equals_a_fresh_one(updates: Updates, tmp_path):
    (published,) = [
        event.materialization.metadata
        for result in updates.changed.results
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "publish/analytics_snapshot"
    ]
    assert 0 < published["rows_copied"].value < published["dagster/row_count"].value / 10
    fresh = publish_snapshot(updates.incremental.warehouse, tmp_path / "analytics.duckdb")
    with duckdb.connect() as con:
        con.execute(f"attach '{updates.incremental.analytics_db}' as updated (read_only)")
        con.execute(f"attach '{fresh.path}' as fresh (read_only)")
        differing_rows = {
            name: con.execute(
                f"select count(*) from (select * from updated.{name} except all select * from fresh.{name} "
                f"union all (select * from fresh.{name} except all select * from updated.{name}))"
            ).fetchone()[0]
            for name in fresh.tables
        }
    assert {name: rows for name, rows in differing_rows.items() if rows} == {}


def test_plan_follows_the_last_record(updates: Updates, tmp_path, monkeypatch):
    """No record (a fresh or a killed-before-recording warehouse) plans everything; a record of the
    current state plans nothing; a changed PII key plans everything."""
    from orchestration.cli.build_state import plan_build, record_build

    warehouse = tmp_path / "training.duckdb"
    shutil.copyfile(updates.incremental.warehouse, warehouse)
    current = plan_build(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from audit.builds")
    assert plan_build(warehouse).mode == "full"
    record_build(warehouse, "test-run", current)
    assert plan_build(warehouse).mode == "nothing"
    monkeypatch.setenv("TRAINING_PII_KEY", "another key")
    assert plan_build(warehouse).mode == "full"
