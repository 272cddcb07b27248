"""`make run`: build the whole warehouse from the raw folder in one in-process Dagster run.

Prints a short summary of what was built and where. Exit status 1 if the run failed.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from orchestration.instance import apply_offline_env, prepare_dagster_home
from orchestration.resources import Settings, pii_key


def load_definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


TRIGGER_TAG = "training/trigger"
TRIGGER = "make run"


@contextmanager
def exclusive_run(settings: Settings):
    """One `make run` at a time per warehouse: a lock file beside it, released even on SIGKILL."""
    lock_path = settings.warehouse.parent / (settings.warehouse.name + ".run.lock")
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another run is building {settings.warehouse} (lock {lock_path})") from None
        yield


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark earlier in-process runs that were killed as failed.

    In-process runs have no worker the run monitor could check, so a killed `make run` would stay
    STARTED for ever and fill the instance's run queue. Only called while holding the run lock,
    so no such run can still be alive.
    """
    abandoned = instance.get_runs(
        filters=dg.RunsFilter(statuses=list(IN_PROGRESS_RUN_STATUSES), tags={TRIGGER_TAG: TRIGGER})
    )
    for run in abandoned:
        instance.report_run_failed(run, message="abandoned: the process running it ended without finishing")
    return [run.run_id for run in abandoned]


def run_full_refresh(settings: Settings, job_name: str = "full_refresh") -> dg.ExecuteInProcessResult:
    """Run a named job in-process against the settings' instance; used by `make run` and the tests."""
    apply_offline_env()
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings.dagster_home))
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    definitions = load_definitions()
    job = definitions.resolve_job_def(job_name)
    # No partition tags: the monthly report assets then write every month with data. A partition
    # range would make Dagster plan every unpartitioned asset once per month (72 × 71 events).
    tags = {TRIGGER_TAG: TRIGGER}
    with exclusive_run(settings), dg.DagsterInstance.get() as instance:
        fail_abandoned_runs(instance)
        return job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)


def summarise(settings: Settings) -> list[str]:
    lines = [f"warehouse: {settings.warehouse}"]
    if not settings.warehouse.exists():
        return [*lines, "  (not created)"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            lines.append(f"  {schema}.{table:<42} {count:>10,} rows")
        audit = [t for s, t in tables if s == "audit"]
        if "ingest_files" in audit:
            statuses = con.execute(
                "select status, count(*) from audit.ingest_files "
                "where run_id = (select run_id from audit.ingest_files order by ingested_at desc limit 1) "
                "group by 1 order by 1"
            ).fetchall()
            lines.append("  last ingest: " + ", ".join(f"{n} {s}" for s, n in statuses))
    if settings.analytics_db.exists():
        lines.append(f"analysts' snapshot: {settings.analytics_db}")
    if settings.reports_dir.exists():
        reports = sorted(settings.reports_dir.rglob("*.xlsx"))
        lines.append(f"city reports: {len(reports)} workbooks under {settings.reports_dir}")
    return lines


def main() -> int:
    settings = Settings.from_env()
    try:
        pii_key()  # in production without TRAINING_PII_KEY, stop before anything is read
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"raw folder: {settings.raw_dir}")
    started = time.perf_counter()
    result = run_full_refresh(settings)
    elapsed = time.perf_counter() - started
    failed_checks = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    status = "succeeded" if result.success else "FAILED"
    print(f"\nfull_refresh {status} in {elapsed:.1f} s (run {result.run_id})")
    for line in summarise(settings):
        print(line)
    if failed_checks:
        print(f"checks that found problems: {len(failed_checks)} (details in dq.findings and the Dagster UI)")
        for check in failed_checks[:20]:
            print(f"  - {check.asset_key.to_user_string()} · {check.check_name}")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
