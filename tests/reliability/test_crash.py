"""Crash safety: `make run` killed with SIGKILL during ingest and again during the dbt build.

One sequence, each run a real `python -m orchestration.run` with its own environment, on the
sample in raw/:

1. killed while ingest parses (its process pool is up): nothing of the run is committed;
2. killed while dbt builds (a dozen models materialised): ingest has completed, the models
   are half-built;
3. a plain run: it completes, and its marts, dq, raw tables and snapshot equal those of the
   uninterrupted session build (`sample_build`).

Analysts query the snapshot from two other processes during the whole sequence. Before it
starts the snapshot holds an older build (the sample's, with rows removed), so each answer can
be told apart: every answer is the old build's or the new one's, never an error and never
anything else.

Whole process groups are killed (the run, dbt and the parsing workers), as a power cut would.
What the data survives, the Dagster instance does not yet: the killed runs stay STARTED and
hold the run queue (a strict xfail below says so until it is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.publish.snapshot import record_path
from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import (
    RunOutcome,
    RunWatch,
    SnapshotReaders,
    assert_readers_saw_old_then_new,
    checksums,
    differing,
    fingerprint,
    lines_since,
    publish_older_build,
    run_env,
    run_pipeline,
    step_started,
)

pytestmark = pytest.mark.slow


def parsing_pool_running(watch: RunWatch) -> str | None:
    """Ingest's spawned parsing workers have been up for a second: files are being parsed and
    written."""
    workers = [p for p in watch.children() if "spawn_main" in " ".join(_cmdline(p))]
    if workers and all(_age(p) > 1.0 for p in workers):
        return f"during ingest: {len(workers)} parsing workers running"
    return None


def dbt_models_built(count: int):
    def trigger(watch: RunWatch) -> str | None:
        if not step_started(watch, "gansu_training_dbt"):
            return None
        built = [
            line
            for line in lines_since(watch, lambda line: 'step "gansu_training_dbt"' in line)
            if "ASSET_MATERIALIZATION" in line
        ]
        return f"during dbt build: after {len(built)} models materialised" if len(built) >= count else None

    return trigger


def _cmdline(process) -> list[str]:
    try:
        return process.cmdline()
    except Exception:
        return []


def _age(process) -> float:
    import time

    try:
        return time.time() - process.create_time()
    except Exception:
        return 0.0


def relations(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() union all "
            "select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
    return {r[0] for r in rows}


@dataclass
class CrashSequence:
    env: dict[str, str]
    runs: list[RunOutcome]  # killed in ingest, killed in dbt, the next run
    after_kill: list[dict]  # what the warehouse and the snapshot held after each kill
    old: str  # the snapshot's answer before the sequence
    new: str  # the uninterrupted build's answer
    readers: list[dict]

    @property
    def warehouse(self) -> Path:
        return Path(self.env["TRAINING_WAREHOUSE"])

    @property
    def snapshot(self) -> Path:
        return Path(self.env["TRAINING_ANALYTICS_DB"])


@pytest.fixture(scope="module")
def crash(sample_build, tmp_path_factory) -> CrashSequence:
    work = tmp_path_factory.mktemp("crash")
    env = run_env(work / "run", SAMPLE_RAW_DIR)
    warehouse, snapshot = Path(env["TRAINING_WAREHOUSE"]), Path(env["TRAINING_ANALYTICS_DB"])
    publish_older_build(sample_build.settings.warehouse, snapshot, work / "older")
    old, new = fingerprint(snapshot), fingerprint(sample_build.settings.analytics_db)
    assert old != new
    runs, after_kill = [], []
    with SnapshotReaders(snapshot, work / "readers") as readers:
        for trigger in (parsing_pool_running, dbt_models_built(12)):
            runs.append(run_pipeline(env, kill_when=trigger, timeout=600))
            after_kill.append(
                {
                    "relations": relations(warehouse),
                    "ingest_runs": _rows(warehouse, "audit.ingest_runs"),
                    "snapshot": fingerprint(snapshot),
                }
            )
        runs.append(run_pipeline(env, timeout=900))
        results = readers.stop()
    for n, run in enumerate(runs, start=1):
        print(f"run {n}: {run.seconds:.0f} s, {run.killed_at or 'completed'}")  # shown with -s
    return CrashSequence(env, runs, after_kill, old, new, results)


def test_the_kills_landed_during_ingest_and_during_the_dbt_build(crash: CrashSequence):
    in_ingest, in_dbt, _ = crash.runs
    assert in_ingest.killed_at and in_ingest.killed_at.startswith("during ingest"), in_ingest.output[-3000:]
    assert in_dbt.killed_at and in_dbt.killed_at.startswith("during dbt"), in_dbt.output[-3000:]
    assert in_ingest.survivors == [] and in_dbt.survivors == []  # no orphan kept writing
    after_ingest, after_dbt = crash.after_kill
    assert after_ingest["ingest_runs"] == 0  # the killed ingest never finished
    assert after_dbt["ingest_runs"] == 1  # the second run's ingest did
    assert any(r.startswith("staging.") for r in after_dbt["relations"]), sorted(after_dbt["relations"])
    assert "dq.findings" not in after_dbt["relations"], "the dbt build was not killed half-way"


def test_a_killed_run_leaves_the_snapshot_as_it_was(crash: CrashSequence):
    assert [state["snapshot"] for state in crash.after_kill] == [crash.old, crash.old]


def test_the_next_run_completes_and_equals_an_uninterrupted_run(crash: CrashSequence, sample_build):
    final = crash.runs[-1]
    assert final.returncode == 0, final.output[-5000:]
    reference = sample_build.settings.warehouse
    assert differing(checksums(reference), checksums(crash.warehouse)) == {}
    raw, lineage = ("raw",), ("ingested_at",)
    assert differing(checksums(reference, raw, lineage), checksums(crash.warehouse, raw, lineage)) == {}
    assert differing(checksums(sample_build.settings.analytics_db), checksums(crash.snapshot)) == {}
    assert fingerprint(crash.snapshot) == crash.new
    assert _rows(crash.warehouse, "audit.ingest_runs") == 2  # the killed ingest left no run behind
    leftovers = set(crash.snapshot.parent.glob(f".{crash.snapshot.name}.*")) - {record_path(crash.snapshot)}
    assert not leftovers, f"a temporary snapshot was left behind: {leftovers}"


def test_analysts_saw_the_old_snapshot_then_the_new_one_and_nothing_else(crash: CrashSequence):
    assert_readers_saw_old_then_new(crash.readers, crash.old, crash.new)


def test_killed_runs_do_not_hold_the_run_queue(crash: CrashSequence):
    import dagster as dg
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

    with dg.DagsterInstance.from_config(crash.env["DAGSTER_HOME"]) as instance:
        statuses = [run.status for run in instance.get_runs()]
    # killed in ingest: 1 Dagster run; killed in dbt: ingest + rebuild; the last: ingest + rebuild
    assert len(statuses) == 5
    assert [s for s in statuses if s in IN_PROGRESS_RUN_STATUSES] == []


def _rows(warehouse: Path, table: str) -> int:
    """Rows of a table; 0 when the killed run never created it."""
    if table not in relations(warehouse):
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
