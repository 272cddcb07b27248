"""The code location loads, and `dg check defs` agrees."""

import ast
import json
import subprocess
import sys
from pathlib import Path

from orchestration.resources import REPO_ROOT


def test_definitions_load_with_full_refresh_job():
    from orchestration.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def("full_refresh")
    assert job.name == "full_refresh"
    assert job.executor_def.name == "in_process"


def test_dg_check_defs_passes():
    dg_cli = Path(sys.executable).parent / "dg"
    result = subprocess.run(
        [str(dg_cli), "check", "defs"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


# Loading the code location runs in the UI's code server, the daemon and every `make run`:
# nothing heavy at load. Great Expectations loads in seconds and only a check that runs needs it.
LOAD_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from orchestration.definitions import defs
definitions = defs()
definitions.resolve_asset_graph()
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "heavy": sorted(m for m in ("great_expectations", "numpy", "pandas", "splink") if m in sys.modules),
    "resources": sorted(definitions.resources),
}))
"""


def test_loading_the_definitions_imports_no_great_expectations():
    def load() -> dict:
        result = subprocess.run(
            [sys.executable, "-c", LOAD_SCRIPT], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-4000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    load()  # cold: bytecode and the dbt manifest
    warm = load()
    print(f"definitions load (warm, fresh process): {warm['seconds']:.2f} s")
    assert warm["heavy"] == [], f"loading the definitions imported {warm['heavy']}"
    assert warm["resources"] == ["dbt", "paths", "pii_key", "report_settings", "warehouse"]


# dagster_dbt is allowed for one thing: lib/transform/project.py describes the dbt project (DbtProject).
FORBIDDEN_IN_LIB = ("orchestration.defs", "orchestration.definitions", "orchestration.cli", "dagster")
# The one engine module that speaks Dagster's types: it turns dbt's event stream into Dagster's
# table metadata and is imported only by defs/transform/assets.py (which imports Dagster anyway).
DAGSTER_ADAPTERS_IN_LIB = {"orchestration/lib/transform/dbt_metadata.py"}


def test_engine_never_imports_the_definitions():
    """orchestration/lib/ is plain Python the definitions call, never the other way round."""
    offenders = []
    for path in sorted((REPO_ROOT / "orchestration" / "lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(REPO_ROOT)}: {name}"
                for name in names
                if name.startswith(FORBIDDEN_IN_LIB)
                and name not in ("dagster_dbt",)
                and path.relative_to(REPO_ROOT).as_posix() not in DAGSTER_ADAPTERS_IN_LIB
            ]
    assert offenders == []


def test_defs_holds_only_dagster_definitions():
    """Every module under orchestration/defs/ defines assets, checks, jobs, schedules, sensors or
    partitions; the engine lives in orchestration/lib/."""
    import importlib

    import dagster as dg

    kinds = (
        dg.AssetsDefinition,
        dg.AssetChecksDefinition,
        dg.JobDefinition,
        dg.ScheduleDefinition,
        dg.SensorDefinition,
        dg.PartitionsDefinition,
        type(dg.define_asset_job("any")),
    )
    without = []
    for path in sorted((REPO_ROOT / "orchestration" / "defs").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts))
        values = [v for v in vars(module).values() if isinstance(v, kinds)]
        values += [
            v for v in vars(module).values() if isinstance(v, list) and any(isinstance(x, kinds) for x in v)
        ]
        if not values:
            without.append(path.relative_to(REPO_ROOT).as_posix())
    assert without == []


def test_make_run_settings_reach_every_resource(tmp_path):
    """`make run` builds the definitions from the Settings it was given, not from the environment."""
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    settings = Settings(
        raw_dir=tmp_path / "raw",
        warehouse=tmp_path / "w" / "training.duckdb",
        analytics_db=tmp_path / "w" / "analytics.duckdb",
        reports_dir=tmp_path / "reports",
        dagster_home=tmp_path / "home",
        report_contact="省人社厅 王明",
        report_deadline_day=10,
    )
    resources = build_definitions(settings).resources
    assert resources["paths"].raw_path == settings.raw_dir
    assert resources["paths"].warehouse_path == settings.warehouse
    assert resources["paths"].analytics_db_path == settings.analytics_db
    assert resources["paths"].reports_path == settings.reports_dir
    assert resources["warehouse"].database == str(settings.warehouse)
    assert resources["dbt"].warehouse == str(settings.warehouse)
    assert (resources["report_settings"].contact, resources["report_settings"].deadline_day) == (
        "省人社厅 王明",
        10,
    )


def test_report_assets_declare_every_table_they_read():
    """Lineage from raw file to city report: each table orchestration/lib/reports queries is an
    upstream of both report assets."""
    import re

    import dagster as dg

    from orchestration.definitions import defs

    read = set()
    for path in (REPO_ROOT / "orchestration" / "lib" / "reports").glob("*.py"):
        read |= set(
            re.findall(r"\b(staging|marts|dq|reference)\.([a-z_]+)\b", path.read_text(encoding="utf-8"))
        )
    assert read, "the report queries name their tables schema.table"
    graph = defs().resolve_asset_graph()
    for report in ("city_quality_reports", "province_quality_summary"):
        parents = graph.get(dg.AssetKey(["reports", report])).parent_keys
        missing = sorted(f"{s}.{t}" for s, t in read if dg.AssetKey([s, t]) not in parents)
        assert missing == [], f"{report} reads {missing} without declaring them"
