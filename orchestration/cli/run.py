"""`make run`: bring the warehouse up to date with the raw folder, in-process Dagster runs.

Two runs: ingest (every source; only files whose SHA-256 changed are read), then the rebuild
``orchestration.cli.build_state`` plans — everything the first time or after a code change, only
what is downstream of the raw tables that changed otherwise, nothing when nothing changed.
``--full`` rebuilds everything. On the console: one line per stage (a progress display on a
terminal, orchestration/cli/console.py), a short summary naming the log file that holds Dagster's
event log and dbt's output, and last ``files failed to load: N``; ``--verbose`` shows the full log
on the console instead. Exit status 1 if a run failed; files that failed to load do not
fail it (they are findings file_not_loaded, in the city reports).
"""

from __future__ import annotations

import argparse
import fcntl
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.cli.build_state import BuildPlan, plan_build
from orchestration.cli.console import StageDisplay, output_to, watching
from orchestration.lib.ingest.pipeline import files_to_ingest
from orchestration.settings import Settings, pii_key

if TYPE_CHECKING:
    import dagster as dg


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


@dataclass
class UpdateOutcome:
    plan: BuildPlan | None
    results: list[dg.ExecuteInProcessResult]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    def step_seconds(self) -> dict[str, float]:
        """Seconds of each step that succeeded, slowest first (where a run's time went)."""
        seconds = {
            event.step_key: event.event_specific_data.duration_ms / 1000
            for result in self.results
            for event in result.all_events
            if event.event_type_value == "STEP_SUCCESS" and event.event_specific_data is not None
        }
        return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def run_update(
    settings: Settings, force_full: bool = False, log=print, display: StageDisplay | None = None
) -> UpdateOutcome:
    """Ingest, then rebuild what the plan says; record the build when every run succeeded.

    With a ``display``, each run's stages are shown on it as the run's events are stored."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)

    def watch(instance, run_id: str, stages):
        return nullcontext() if display is None else watching(display, instance, run_id, stages())

    with exclusive_run(settings):
        unchanged = None if force_full else nothing_changed(settings)
        if unchanged is not None:
            log(f"plan: {unchanged.mode} — {unchanged.reason}")
            return UpdateOutcome(unchanged, [])
        from orchestration.cli import runs  # Dagster and the definitions: only when a run is needed

        return runs.ingest_and_rebuild(settings, force_full, watch, log)


def nothing_changed(settings: Settings) -> BuildPlan | None:
    """The plan "nothing" when the last build is of this code and these raw tables and no file
    would be ingested: then neither Dagster nor dbt is started (no run is recorded either).
    None when anything may have changed: the ingest run decides."""
    if not settings.warehouse.is_file():
        return None
    # the build record first: it reads a few rows, while the raw folder's plan hashes every file
    # (which the ingest run would then do again)
    plan = plan_build(settings.warehouse)
    if plan.mode != "nothing" or files_to_ingest(settings.raw_dir, settings.warehouse) != 0:
        return None
    return replace(plan, reason="no file changed in the raw folder since the last build")


def summarise(settings: Settings, tables: bool = True) -> list[str]:
    """Where things are; with ``tables``, the row count of every table of the warehouse."""
    if not tables:
        return _outputs(settings)
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
    return lines + _outputs(settings)[1:]


def _outputs(settings: Settings) -> list[str]:
    lines = [f"warehouse: {settings.warehouse}" + ("" if settings.warehouse.exists() else " (not created)")]
    if settings.analytics_db.exists():
        lines.append(f"analysts' snapshot: {settings.analytics_db}")
    if settings.reports_dir.exists():
        reports = sorted(settings.reports_dir.rglob("*.xlsx"))
        lines.append(f"city reports: {len(reports)} workbooks under {settings.reports_dir}")
    return lines


# Up to this many failed files are named on the last line; more point to the audit table.
FAILED_FILES_NAMED = 5


def failed_files_line(settings: Settings) -> str:
    """The run's last line: how many files are failed now (files that failed do not fail the run;
    they are findings file_not_loaded in dq.findings and the city reports)."""
    failed: list[str] = []
    if settings.warehouse.exists():
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            (exists,) = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'audit' and table_name = 'current_files'"
            ).fetchone()
            if exists:
                failed = [
                    name
                    for (name,) in con.execute(
                        "select source_file from audit.current_files where status = 'failed' order by 1"
                    ).fetchall()
                ]
    line = f"files failed to load: {len(failed)}"
    if not failed:
        return line
    if len(failed) <= FAILED_FILES_NAMED:
        return line + " (" + ", ".join(failed) + ")"
    return line + " (list: select source_file, error from audit.current_files where status = 'failed')"


# Failed checks named on the console; the log file names them all.
CHECKS_NAMED = 8


def log_file(settings: Settings) -> Path:
    """A new log file per run, beside the warehouse (logs/ is never read back)."""
    return settings.warehouse.parent / "logs" / f"run-{datetime.now():%Y%m%d-%H%M%S}.log"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="rebuild everything, changed or not")
    parser.add_argument(
        "--verbose", action="store_true", help="Dagster's event log and dbt's output on the console"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        pii_key()  # in production without TRAINING_PII_KEY, stop before anything is read
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"raw folder: {settings.raw_dir}", flush=True)
    started = time.perf_counter()
    log_path = None if args.verbose else log_file(settings)
    if log_path is None:
        outcome = run_update(settings, force_full=args.full)
    else:
        with output_to(log_path) as terminal, StageDisplay(terminal) as display:
            outcome = run_update(settings, force_full=args.full, log=display.print, display=display)
    elapsed = time.perf_counter() - started
    failed_checks = [
        e.asset_check_evaluation_data
        for result in outcome.results
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    status = "succeeded" if outcome.success else "FAILED"
    print(f"\nupdate {status} in {elapsed:.1f} s")
    steps = outcome.step_seconds()
    if steps:
        print("slowest steps: " + ", ".join(f"{key} {sec:.1f} s" for key, sec in list(steps.items())[:6]))
    if log_path is not None:  # every table's rows go to the log, the console keeps to the point
        with open(log_path, "a", encoding="utf-8") as log:
            print("\n".join(summarise(settings)), file=log)
    for line in summarise(settings, tables=log_path is None):
        print(line)
    if failed_checks:
        print(f"checks that found problems: {len(failed_checks)} (details in dq.findings and the Dagster UI)")
        named = failed_checks if log_path is None else failed_checks[:CHECKS_NAMED]
        for check in named:
            print(f"  - {check.asset_key.to_user_string()} · {check.check_name}")
        if len(named) < len(failed_checks):
            print(f"  … and {len(failed_checks) - len(named)} more (the Dagster UI lists them)")
    if log_path is not None:
        print(f"log: {log_path}")
    print(failed_files_line(settings))
    return 0 if outcome.success else 1


if __name__ == "__main__":
    sys.exit(main())
