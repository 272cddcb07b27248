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
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from orchestration.cli.build_state import BuildPlan, plan_build, record_build
from orchestration.cli.console import RunStages, Stage, StageDisplay, output_to, watching
from orchestration.cli.instance import apply_offline_env, prepare_dagster_home
from orchestration.defs.ingest.assets import CHECK_NAME as INGEST_CHECK
from orchestration.lib.ingest.pipeline import files_to_ingest
from orchestration.settings import Settings, pii_key


def load_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The code location's definitions, their resources made from ``settings``."""
    from orchestration.definitions import build_definitions

    return build_definitions(settings)


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


def _prepare(settings: Settings) -> dg.Definitions:
    apply_offline_env()
    prepare_dagster_home(settings.dagster_home)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return load_definitions(settings)


def _instance(settings: Settings) -> dg.DagsterInstance:
    """The settings' own Dagster instance, opened from its folder: nothing is read from or
    written to the process environment, so a test or a second build in the same process
    cannot end up on another build's instance."""
    return dg.DagsterInstance.from_config(str(settings.dagster_home))


def run_full_refresh(settings: Settings, job_name: str = "full_refresh") -> dg.ExecuteInProcessResult:
    """Run a named job in-process against the settings' instance (tests, `--full`)."""
    definitions = _prepare(settings)
    job = definitions.resolve_job_def(job_name)
    # No partition tags: the monthly report assets then write every month with data. A partition
    # range would make Dagster plan every unpartitioned asset once per month (72 × 71 events).
    tags = {TRIGGER_TAG: TRIGGER}
    with exclusive_run(settings), _instance(settings) as instance:
        fail_abandoned_runs(instance)
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
        if job_name == "full_refresh" and result.success:  # everything was rebuilt: a baseline
            record_build(settings.warehouse, result.run_id, plan_build(settings.warehouse, force_full=True))
        return result


def ingest_job(definitions: dg.Definitions) -> dg.JobDefinition:
    """full_refresh cut to the raw assets and their ingest_clean checks (their GX suites run later,
    only for the sources that changed)."""
    graph = definitions.resolve_asset_graph()
    raw = dg.AssetSelection.groups("ingest")
    checks = {key for key in raw.resolve_checks(graph) if key.name == INGEST_CHECK}
    return definitions.resolve_job_def("full_refresh").get_subset(
        asset_selection=raw.resolve(graph), asset_check_selection=checks
    )


def rebuild_job(definitions: dg.Definitions, plan: BuildPlan) -> dg.JobDefinition:
    """full_refresh without ingest: all of it (seeds included) for a full plan, otherwise what is
    downstream of the changed raw tables; with their checks and the changed tables' GX suites."""
    assets, checks = rebuild_selection(definitions, plan)
    return definitions.resolve_job_def("full_refresh").get_subset(
        asset_selection=assets, asset_check_selection=checks
    )


def rebuild_selection(definitions: dg.Definitions, plan: BuildPlan) -> tuple[set, set]:
    """(asset keys, check keys) that rebuild_job runs for the plan."""
    graph = definitions.resolve_asset_graph()
    raw_keys = [dg.AssetKey(["raw", name]) for name in plan.changed_sources]
    if plan.mode == "full":
        rebuilt = dg.AssetSelection.all() - dg.AssetSelection.groups("ingest")
    else:
        rebuilt = dg.AssetSelection.assets(*raw_keys).downstream(include_self=False)
    raw_suites = {
        key
        for key in dg.AssetSelection.checks_for_assets(*raw_keys).resolve_checks(graph)
        if key.name != INGEST_CHECK
    }
    return rebuilt.resolve(graph), rebuilt.resolve_checks(graph) | raw_suites


# Groups of the stages `make run` shows after ingest; every other asset is a dbt model or seed.
_STAGE_GROUPS = {"ingest": None, "reports": "reports", "publish": "snapshot"}


def ingest_stages() -> RunStages:
    stage = Stage("ingest", "files", total=0)
    return RunStages([stage], ingest=stage)


def rebuild_stages(definitions: dg.Definitions, plan: BuildPlan) -> RunStages:
    """dbt models, checks (dbt tests and GX suites), reports, snapshot: what the rebuild runs of each."""
    graph = definitions.resolve_asset_graph()
    assets, checks = rebuild_selection(definitions, plan)
    by_stage: dict[str, set] = {"dbt": set(), "reports": set(), "snapshot": set()}
    for key in assets:
        group = graph.get(key).group_name
        by_stage[_STAGE_GROUPS.get(group) or "dbt"].add(key)
    stages = [
        Stage("dbt", "models", len(by_stage["dbt"]), keys=frozenset(by_stage["dbt"])),
        Stage("checks", "checks", len(checks), keys=frozenset(checks)),
        Stage("reports", "assets", len(by_stage["reports"]), keys=frozenset(by_stage["reports"])),
        Stage("snapshot", "assets", len(by_stage["snapshot"]), keys=frozenset(by_stage["snapshot"])),
    ]
    return RunStages([stage for stage in stages if stage.total])


@dataclass
class UpdateOutcome:
    plan: BuildPlan | None
    results: list[dg.ExecuteInProcessResult]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)


def run_update(
    settings: Settings, force_full: bool = False, log=print, display: StageDisplay | None = None
) -> UpdateOutcome:
    """Ingest, then rebuild what the plan says; record the build when every run succeeded.

    With a ``display``, each run's stages are shown on it as the run's events are stored."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    tags = {TRIGGER_TAG: TRIGGER}

    def watch(instance, run_id: str, stages):
        return nullcontext() if display is None else watching(display, instance, run_id, stages())

    with exclusive_run(settings):
        unchanged = None if force_full else nothing_changed(settings)
        if unchanged is not None:
            log(f"plan: {unchanged.mode} — {unchanged.reason}")
            return UpdateOutcome(unchanged, [])
        definitions = _prepare(settings)
        with _instance(settings) as instance:
            return _ingest_and_rebuild(settings, definitions, instance, force_full, tags, watch, log)


def nothing_changed(settings: Settings) -> BuildPlan | None:
    """The plan "nothing" when no file would be ingested and the last build is of this code and
    these raw tables: then neither Dagster nor dbt is started (no run is recorded either).
    None when anything may have changed: the ingest run decides."""
    if files_to_ingest(settings.raw_dir, settings.warehouse) != 0:
        return None
    plan = plan_build(settings.warehouse)
    if plan.mode != "nothing":
        return None
    return replace(plan, reason="no file changed in the raw folder since the last build")


def _ingest_and_rebuild(
    settings: Settings,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    force_full: bool,
    tags: dict[str, str],
    watch,
    log,
) -> UpdateOutcome:
    """The two Dagster runs: ingest, then the rebuild the plan asks for (recorded when it succeeds)."""
    fail_abandoned_runs(instance)
    run_id = str(uuid.uuid4())  # known before the run starts: the display follows it
    with watch(instance, run_id, ingest_stages):
        ingested = ingest_job(definitions).execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={**tags, "training/step": "ingest"},
            run_id=run_id,
        )
    log(f"ingest {'succeeded' if ingested.success else 'FAILED'} (run {ingested.run_id})")
    if not ingested.success:
        return UpdateOutcome(None, [ingested])
    plan = plan_build(settings.warehouse, force_full)
    log(f"plan: {plan.mode} — {plan.reason}")
    if plan.mode == "nothing":
        return UpdateOutcome(plan, [ingested])
    run_id = str(uuid.uuid4())  # known before the run starts: the display follows it
    with watch(instance, run_id, lambda: rebuild_stages(definitions, plan)):
        rebuilt = rebuild_job(definitions, plan).execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={**tags, "training/step": f"rebuild {plan.mode}"},
            run_id=run_id,
        )
    log(f"rebuild {'succeeded' if rebuilt.success else 'FAILED'} (run {rebuilt.run_id})")
    if rebuilt.success:
        record_build(settings.warehouse, rebuilt.run_id, plan)
    return UpdateOutcome(plan, [ingested, rebuilt])


def step_seconds(results: list[dg.ExecuteInProcessResult]) -> dict[str, float]:
    """Seconds of each step that succeeded, slowest first (where a run's time went)."""
    seconds = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for result in results
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.event_specific_data is not None
    }
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


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
    steps = step_seconds(outcome.results)
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
