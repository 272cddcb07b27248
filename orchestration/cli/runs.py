"""The Dagster side of `make run`: the code location's definitions, the project's instance and
the in-process runs (ingest, then the rebuild the plan asks for). Imported only when a run is
needed: `make run` with nothing changed never loads Dagster (orchestration/cli/run.py).
"""

from __future__ import annotations

import uuid

import dagster as dg
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from orchestration.cli.build_state import BuildPlan, plan_build, record_build
from orchestration.cli.console import RunStages, Stage
from orchestration.cli.instance import apply_offline_env, prepare_dagster_home
from orchestration.cli.run import UpdateOutcome, exclusive_run
from orchestration.defs.ingest.assets import CHECK_NAME as INGEST_CHECK
from orchestration.settings import Settings

TRIGGER_TAG = "training/trigger"
TRIGGER = "make run"


def load_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The code location's definitions, their resources made from ``settings``."""
    from orchestration.definitions import build_definitions

    return build_definitions(settings)


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


def ingest_and_rebuild(settings: Settings, force_full: bool, watch, log) -> UpdateOutcome:
    """The two Dagster runs of `make run`: ingest, then the rebuild the plan asks for (recorded
    when it succeeds). Called holding the run lock; ``watch(instance, run_id, stages)`` follows a run."""
    definitions = _prepare(settings)
    tags = {TRIGGER_TAG: TRIGGER}
    with _instance(settings) as instance:
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
