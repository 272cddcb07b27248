"""Monthly partitions, the month-closing schedule, the raw-folder sensor and CLI backfills."""

import contextvars
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.definitions.backfill_policy import BackfillPolicyType
from dagster._core.instance.ref import InstanceRef

from orchestration.cli.instance import prepare_dagster_home
from orchestration.defs.schedules import monthly_partitions
from orchestration.resources import REPO_ROOT, PathsResource, Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


# A code location with the real jobs and schedule and stand-ins for the assets of the other areas:
# an unpartitioned mart (like the dbt models) and a monthly report with a single-run policy.
STAND_IN_LOCATION = """
import os
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import city_quality_reports, full_refresh, monthly_attainment
from orchestration.defs.schedules import monthly_attainment_schedule, monthly_partitions
from orchestration.defs.sensors import raw_folder_sensor
from orchestration.resources import PathsResource, Settings

OUT = Path(os.environ["STAND_IN_OUT"])


@dg.asset(key=["marts", "mart_target_attainment_monthly"], group_name="marts",
          backfill_policy=dg.BackfillPolicy.single_run())
def mart() -> None:
    with open(OUT / "mart_runs.txt", "a") as f:
        f.write("built\\n")


@dg.asset(key=["reports", "city_reports"], group_name="reports", deps=[mart],
          partitions_def=monthly_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def city_reports(context) -> None:
    with open(OUT / "report_months.txt", "a") as f:
        # Like the real report assets: a run without a partition writes every month with data.
        partitioned = context.has_partition_key_range or context.has_partition_key
        months = context.partition_keys if partitioned else ["all"]
        f.writelines(f"{month}\\n" for month in months)


defs = dg.Definitions(
    assets=[mart, city_reports],
    jobs=[full_refresh, monthly_attainment, city_quality_reports],
    schedules=[monthly_attainment_schedule],
    sensors=[raw_folder_sensor],
    resources={"paths": PathsResource.from_settings(Settings.from_env())},
    executor=dg.in_process_executor,
)
"""

YEAR_2015 = [f"2015-{m:02d}" for m in range(1, 13)]


@dataclass
class StandIn:
    location: Path  # the code location file, for the CLI
    definitions: dg.Definitions  # the same, loaded here
    out: Path  # where its assets note what they built
    home: Path  # DAGSTER_HOME
    env: dict[str, str]


@pytest.fixture
def stand_in(tmp_path, monkeypatch) -> StandIn:
    location = tmp_path / "stand_in_location.py"
    location.write_text(textwrap.dedent(STAND_IN_LOCATION))
    out = tmp_path / "out"
    out.mkdir()
    home = prepare_dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("STAND_IN_OUT", str(out))
    spec = importlib.util.spec_from_file_location("stand_in_location", location)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1"}
    return StandIn(location, module.defs, out, home, env)


# --- schedule ---------------------------------------------------------------------------------


TICKS = [
    (datetime(2015, 3, 1, 2, 0, tzinfo=SHANGHAI), "2015-02"),
    (datetime(2016, 1, 1, 2, 0, tzinfo=SHANGHAI), "2015-12"),
    (datetime(2020, 12, 1, 2, 0, tzinfo=SHANGHAI), "2020-11"),
]


def isolated(fn):
    """Run `fn` in a copy of the context: an evaluation leaves its throw-away instance's state
    storage set in a context variable, and the next Definitions to load would try to use it."""

    def wrapper(*args, **kwargs):
        return contextvars.copy_context().run(fn, *args, **kwargs)

    return wrapper


@isolated
def evaluate_schedule(definitions: dg.Definitions, tick: datetime) -> dg.RunRequest:
    schedule = definitions.resolve_schedule_def("monthly_attainment_schedule")
    assert schedule.cron_schedule == "0 2 1 * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "monthly_attainment"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=definitions.get_repository_def()
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    return request


@pytest.mark.parametrize("tick, month", TICKS)
def test_schedule_closes_the_previous_month(definitions, tick, month):
    request = evaluate_schedule(definitions, tick)
    assert request.run_key == month
    assert request.tags["training/month"] == month
    if definitions.resolve_job_def("monthly_attainment").partitions_def is not None:
        assert request.partition_key == month


@pytest.mark.parametrize("tick, month", TICKS)
def test_schedule_targets_the_month_partition_of_the_reports(stand_in, tick, month):
    request = evaluate_schedule(stand_in.definitions, tick)
    assert request.partition_key == month
    assert request.run_key == month


def test_partitions_are_months_from_2015_01_in_beijing_time():
    keys = monthly_partitions.get_partition_keys(current_time=datetime(2021, 1, 1, 0, 30, tzinfo=SHANGHAI))
    assert keys[:2] == ["2015-01", "2015-02"]
    # At 00:30 on 1 January in Beijing (16:30 UTC the day before) December 2020 has ended.
    assert keys[-1] == "2020-12"
    assert len(keys) == 72


# --- jobs --------------------------------------------------------------------------------------


def test_jobs_exist_and_monthly_attainment_leaves_ingest_to_the_sensor(definitions):
    graph = definitions.resolve_asset_graph()
    ingest = {node.key for node in graph.asset_nodes if node.group_name == "ingest"}
    full = definitions.resolve_job_def("full_refresh").asset_layer.executable_asset_keys
    monthly = definitions.resolve_job_def("monthly_attainment").asset_layer.executable_asset_keys
    reports = definitions.resolve_job_def("city_quality_reports").asset_layer.executable_asset_keys

    assert dg.AssetKey(["publish", "analytics_snapshot"]) in monthly
    assert not monthly & ingest
    assert monthly <= full and reports <= full
    assert ingest <= full
    assert reports == {node.key for node in graph.asset_nodes if node.group_name == "reports"}


def test_partitioned_assets_use_the_monthly_partitions(definitions):
    graph = definitions.resolve_asset_graph()
    for node in graph.asset_nodes:
        if node.partitions_def is not None:
            assert node.partitions_def == monthly_partitions, node.key.to_user_string()


def test_monthly_attainment_can_run_a_range_of_months_in_one_run(definitions):
    """What `dg launch --partition-range` needs: every asset of the job has a single-run policy."""
    job = definitions.resolve_job_def("monthly_attainment")
    lacking = [
        key.to_user_string()
        for key in job.asset_layer.executable_asset_keys
        if (policy := job.asset_layer.get(key).backfill_policy) is None
        or policy.policy_type != BackfillPolicyType.SINGLE_RUN
    ]
    assert lacking == [], "give these assets backfill_policy=dg.BackfillPolicy.single_run()"


# --- sensor ------------------------------------------------------------------------------------


class SensorTicks:
    """Evaluates the real sensor tick after tick, carrying the cursor like the daemon does."""

    def __init__(self, definitions: dg.Definitions):
        self.sensor = definitions.resolve_sensor_def("raw_folder_sensor")
        self.definitions = definitions
        self.cursor = None

    @isolated
    def tick(self) -> dg.SensorResult:
        with dg.DagsterInstance.ephemeral() as instance:
            # the paths resource as a deployment would configure it, read when the tick runs
            paths = PathsResource.from_settings(Settings.from_env())
            context = dg.build_sensor_context(
                instance=instance,
                cursor=self.cursor,
                definitions=self.definitions,
                resources={"paths": paths},
            )
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor or self.cursor
        return data


@pytest.fixture
def raw_dir(tmp_path, monkeypatch) -> Path:
    raw = tmp_path / "raw"
    (raw / "training_ledgers" / "2016").mkdir(parents=True)
    (raw / "war_maps").mkdir()
    (raw / "training_ledgers" / "2016" / "兰州市_城关区.xlsx").write_bytes(b"ledger one")
    (raw / "war_maps" / "安宁区 作战图.xls").write_bytes(b"war map")
    monkeypatch.setenv("TRAINING_RAW_DIR", str(raw))
    return raw


def test_sensor_requests_one_run_per_change_and_skips_when_nothing_changed(definitions, raw_dir):
    ticks = SensorTicks(definitions)
    ledgers = raw_dir / "training_ledgers" / "2016"

    first = ticks.tick()
    assert len(first.run_requests) == 1, "a first look at the folder loads it"
    assert first.run_requests[0].tags["training/raw_files"] == "2"
    assert ticks.tick().run_requests == []

    (ledgers / "白银市_白银区.xlsx").write_bytes(b"a new ledger")
    assert len(ticks.tick().run_requests) == 1, "new file"
    assert ticks.tick().run_requests == []

    changed = ledgers / "兰州市_城关区.xlsx"
    changed.write_bytes(b"ledger one, corrected and re-sent")
    assert len(ticks.tick().run_requests) == 1, "changed file"
    assert ticks.tick().run_requests == []

    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(ticks.tick().run_requests) == 1, "same size, newer time: saved again"

    (ledgers / "白银市_白银区.xlsx").unlink()
    skipped = ticks.tick()
    assert len(skipped.run_requests) == 1, "deleted file"
    assert ticks.tick().skip_message and ticks.tick().run_requests == []


def test_sensor_rebuilds_only_downstream_of_the_changed_source(definitions, raw_dir):
    """The first tick asks for the whole job; a new ledger afterwards asks for raw/training_records,
    what is downstream of it and their checks: no household model, no other raw table."""
    ticks = SensorTicks(definitions)
    (first,) = ticks.tick().run_requests
    assert first.asset_selection is None  # no digest to compare with: everything

    (raw_dir / "training_ledgers" / "白银市_白银区.xlsx").write_bytes(b"a new ledger")
    (request,) = ticks.tick().run_requests
    selected = {key.to_user_string() for key in request.asset_selection}
    assert request.tags["training/changed_sources"] == "training_records"
    assert {"raw/training_records", "marts/fct_training_enrolments", "dq/findings"} <= selected
    assert {"reports/city_quality_reports", "publish/analytics_snapshot"} <= selected
    assert not {"raw/household_members", "raw/war_map_targets"} & selected
    assert "staging/int_household_members_resolved" not in selected
    checks = {(key.asset_key.to_user_string(), key.name) for key in request.asset_check_keys}
    assert ("raw/training_records", "gx_training_records") in checks
    assert not any(asset == "raw/household_members" for asset, _ in checks)

    (raw_dir / "war_maps" / "安宁区 作战图.xls").unlink()
    (request,) = ticks.tick().run_requests
    assert request.tags["training/changed_sources"] == "war_map_targets"
    assert "raw/training_records" not in {key.to_user_string() for key in request.asset_selection}


def test_sensor_ignores_what_ingest_does_not_read(definitions, raw_dir):
    ticks = SensorTicks(definitions)
    ticks.tick()

    ledgers = raw_dir / "training_ledgers"
    (ledgers / "~$兰州市_城关区.xlsx").write_bytes(b"Excel's owner file while open")
    (ledgers / ".~lock.兰州市_城关区.xlsx#").write_bytes(b"LibreOffice lock")
    (ledgers / ".hidden").mkdir()
    (ledgers / ".hidden" / "x.xlsx").write_bytes(b"hidden")
    (raw_dir / "manifest.json").write_text("{}")
    (raw_dir / "not_a_source").mkdir()
    (raw_dir / "not_a_source" / "x.xlsx").write_bytes(b"unknown folder")

    result = ticks.tick()
    assert result.run_requests == []
    assert "no file added, changed or removed" in result.skip_message


def test_sensor_targets_full_refresh_and_skips_without_a_raw_folder(definitions, tmp_path, monkeypatch):
    sensor = definitions.resolve_sensor_def("raw_folder_sensor")
    assert [t.job_name for t in sensor.targets] == ["full_refresh"]
    monkeypatch.setenv("TRAINING_RAW_DIR", str(tmp_path / "absent"))
    result = SensorTicks(definitions).tick()
    assert result.run_requests == [] and "does not exist" in result.skip_message


def test_sensor_run_rebuilds_the_reports_of_every_data_month(stand_in, raw_dir):
    """The sensor's full_refresh carries no partition (a range would plan every asset per month):
    the marts build once and the report assets write every month with data."""
    (request,) = SensorTicks(stand_in.definitions).tick().run_requests
    job = stand_in.definitions.resolve_job_def("full_refresh")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, tags=request.tags)
    assert result.success
    months = lines(stand_in.out / "report_months.txt")
    assert months == ["all"]
    assert not any(
        key.startswith("dagster/asset_partition") or key == "dagster/partition" for key in request.tags
    )
    assert lines(stand_in.out / "mart_runs.txt") == ["built"]


# --- backfill from the command line -------------------------------------------------------------


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.mark.slow
def test_backfill_2015_in_one_run_with_dg_launch(stand_in):
    location, out, env = stand_in.location, stand_in.out, stand_in.env
    result = subprocess.run(
        [str(BIN / "dg"), "launch", "--job", "monthly_attainment", "--partition-range", "2015-01...2015-12",
         "-f", str(location)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(lines(out / "report_months.txt")) == YEAR_2015
    assert lines(out / "mart_runs.txt") == ["built"], "the unpartitioned marts are built once, not 12 times"


@pytest.mark.slow
def test_backfill_2015_with_dagster_job_backfill_and_the_daemon(stand_in):
    location, out, home, env = stand_in.location, stand_in.out, stand_in.home, stand_in.env
    result = subprocess.run(
        [str(BIN / "dagster"), "job", "backfill", "-f", str(location), "-j", "monthly_attainment",
         "--from", "2015-01", "--to", "2015-12", "--noprompt"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Launched backfill job" in result.stdout

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == YEAR_2015
        assert {r.status for r in runs} == {dg.DagsterRunStatus.QUEUED}, "queued for the daemon"

        # The daemon dequeues them one at a time (dagster.yaml: max_concurrent_runs 1).
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-f", str(location)],
            cwd=REPO_ROOT, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline:
                statuses = [r.status for r in instance.get_runs()]
                if all(s in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE) for s in statuses):
                    break
                time.sleep(2)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
        statuses = [r.status for r in instance.get_runs()]

    assert statuses == [dg.DagsterRunStatus.SUCCESS] * 12
    assert sorted(lines(out / "report_months.txt")) == YEAR_2015
