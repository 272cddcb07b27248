"""`make run` on the console: one line per stage, no warnings, the full log in a file; the project's
own instance and .env for every command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration import settings as settings_module
from orchestration.cli import instance as instance_cli
from orchestration.cli.build_state import BuildPlan
from orchestration.cli.runs import load_definitions, rebuild_stages
from orchestration.resources import REPO_ROOT
from tests.conftest import SAMPLE_RAW_DIR, build_env

# The bound for a sample run without --verbose.
MAX_LINES = 40
# A stage's line when it ends, e.g. "dbt   77/77   models   63.5 s" (orchestration/cli/console.py).
STAGE_LINE = re.compile(r"^(\w+)\s+\d+/\d+\s+\w+\s+[\d.]+ s$")


@pytest.mark.slow
def test_stages_count_every_model_and_check_of_the_sample_run(sample_build):
    """The stage counters, fed the stored events of the session's sample run, reach their totals."""
    settings = sample_build.settings
    full = BuildPlan(mode="full", reason="test", changed_sources=())
    stages = rebuild_stages(load_definitions(settings), full)
    assert [stage.name for stage in stages.stages] == ["dbt", "checks", "reports", "snapshot"]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        ended = stages.read(instance, sample_build.result.run_id)
    counts = {stage.name: (stage.done, stage.total) for stage in stages.stages}
    assert all(done == total > 0 for done, total in counts.values()), counts
    assert {stage.name for stage in ended} == set(counts)


def test_env_file_is_read_and_the_shell_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TRAINING_WAREHOUSE={tmp_path}/from_env_file.duckdb\nDAGSTER_HOME={tmp_path}/home\nDAGSTER_PORT=3123\n"
    )
    monkeypatch.setattr(settings_module, "ENV_FILE", env_file)
    for var in ("TRAINING_WAREHOUSE", "DAGSTER_HOME", "DAGSTER_PORT", "TRAINING_REPORTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRAINING_REPORTS_DIR", str(tmp_path / "from_shell"))
    # make sql and make run read Settings.from_env; make ui and make backfill eval instance --shell
    settings = settings_module.Settings.from_env()
    assert settings.warehouse == tmp_path / "from_env_file.duckdb"
    assert settings.reports_dir == tmp_path / "from_shell"
    lines = instance_cli.shell_lines(settings.dagster_home)
    assert f"export DAGSTER_HOME={tmp_path}/home" in lines and "export DAGSTER_PORT=3123" in lines
    assert "export DAGSTER_DISABLE_TELEMETRY=1" in lines
    assert (tmp_path / "home" / "dagster.yaml").exists() is False  # shell_lines prepares nothing itself


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )  # fmt: skip


@pytest.mark.slow
def test_make_run_is_quiet_names_its_log_and_backfill_uses_the_project_instance(tmp_path):
    """One real run and one backfill, as `make run` and `make backfill` start them, with HOME in tmp."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER", "TRAINING", "PYTHONWARNINGS"))
        },
        **build_env(tmp_path, SAMPLE_RAW_DIR),
        "HOME": str(home),
    }
    run = _run([sys.executable, "-m", "orchestration.run"], env)
    output = (run.stdout + run.stderr).splitlines()
    assert run.returncode == 0, "\n".join(output[-30:])
    assert len(output) <= MAX_LINES, "\n".join(output)
    assert not [line for line in output if "Warning" in line or "warning" in line], "\n".join(output)
    stages = [m.group(1) for line in output if (m := STAGE_LINE.match(line))]
    assert sorted(stages) == sorted(["ingest", "dbt", "checks", "reports", "snapshot"]), "\n".join(output)
    (log_line,) = [line for line in output if line.startswith("log: ")]
    log = Path(log_line.removeprefix("log: "))
    assert log.is_file() and "STEP_SUCCESS" in log.read_text(encoding="utf-8")
    assert output[-1] == "files failed to load: 0"

    if shutil.which("make") is None:
        pytest.skip("no make on this machine")
    backfill = _run(["make", "--no-print-directory", "backfill", "FROM=2015-01", "TO=2015-02"], env)
    text = backfill.stdout + backfill.stderr
    assert backfill.returncode == 0, text[-3000:]
    # Dagster's telemetry banner (pip's own lines may name opentelemetry when make re-installs)
    assert "collect usage statistics" not in text
    assert not (home / ".dagster").exists(), "a command wrote Dagster's telemetry under ~/.dagster"
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        jobs = [run.job_name for run in instance.get_runs()]
    assert "monthly_attainment" in jobs, "the backfill's run is not on the project's instance"
