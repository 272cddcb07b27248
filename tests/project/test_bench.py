"""The benchmark harness (bench/) on the tiny world: it runs, measures and writes well-formed JSON.

No timing is asserted: these tests check that each stage ran, counted what it should and was
recorded, not how fast the shared machine happened to be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from bench.queries import analyst_queries
from bench.report import judge, table
from bench.scale10 import synthesise
from bench.world import pick_ledger, write_next_month_ledger
from orchestration.lib.ingest.reader import parse_file
from orchestration.resources import REPO_ROOT

STAGE_KEYS = {
    "stage",
    "seconds",
    "peak_tree_bytes",
    "peak_process_bytes",
    "load_before",
    "load_after",
    "returncode",
    "result",
    "measured_at",
    "load_during",
    "cpu_seconds",
    "others_cores",
}


def run_bench(tmp: Path, *stages: str) -> dict:
    """`python -m bench` on the tiny scale with its cache, work and results under `tmp`."""
    command = [sys.executable, "-m", "bench", "--scale", "tiny", "--workers", "2"]
    command += ["--results-dir", str(tmp / "results"), "--work-dir", str(tmp / "work")]
    command += ["--only", *stages] if stages else []
    completed = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, "BENCH_CACHE_DIR": str(tmp / "cache")},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    latest = json.loads((tmp / "results" / "latest-tiny.json").read_text(encoding="utf-8"))
    latest["_stdout"] = completed.stdout
    return latest


@pytest.fixture(scope="module")
def fast_bench(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("bench")
    return tmp, run_bench(tmp, "floor", "ingest_cold", "ingest_warm")


def test_bench_generates_the_world_once_and_caches_it(fast_bench):
    tmp, results = fast_bench
    world = tmp / "cache" / f"{results['generator_version']}-2015-tiny"
    assert (world / "manifest.json").is_file()
    assert "generate" in results["stages"]
    again = run_bench(tmp, "floor")
    assert set(again["stages"]) >= {"generate", "floor", "ingest_cold"}  # carried over from latest
    assert "generating" not in again["_stdout"]


def test_bench_writes_well_formed_json(fast_bench):
    tmp, results = fast_bench
    runs = sorted((tmp / "results").glob("*-tiny.json"))
    assert runs, "no timestamped result file"
    this_run = json.loads(runs[0].read_text(encoding="utf-8"))
    assert set(this_run["stages"]) == {"generate", "floor", "ingest_cold", "ingest_warm"}
    for name, record in results["stages"].items():
        assert set(record) >= STAGE_KEYS, name
        assert record["returncode"] == 0, name
        assert record["seconds"] > 0
        assert record["peak_tree_bytes"] >= record["peak_process_bytes"] > 10 * 2**20  # a Python process
        assert len(record["load_before"]) == 3
        low, mean, high = record["load_during"]
        assert low <= mean <= high
        assert record["cpu_seconds"] > 0 and record["others_cores"] >= 0
    assert results["scale"] == "tiny" and results["cpus"] >= 1
    assert "ingest_cold / floor" in results["ratios"]
    assert {t["target"] for t in results["targets"]} == {
        "ingest_cold ≤ 1.5 × floor",
        "ingest warm parses no file",
    }


def test_floor_and_ingest_count_the_same_world(fast_bench):
    tmp, results = fast_bench
    world = tmp / "cache" / f"{results['generator_version']}-2015-tiny"
    manifest = json.loads((world / "manifest.json").read_text(encoding="utf-8"))
    floor, cold, warm = (results["stages"][s]["result"] for s in ("floor", "ingest_cold", "ingest_warm"))
    assert floor["files"] == len(manifest["files"]) == cold["files"]
    data_rows = sum(f["rows"] for f in manifest["files"])
    assert floor["rows"] > data_rows  # every row, headers and titles too
    assert cold["files_parsed"] == cold["files"]
    assert cold["rows_loaded"] + cold["rows_quarantined"] >= data_rows * 0.9
    assert warm["files_parsed"] == 0 and warm["files_by_status"] == {"unchanged": cold["files"]}


def test_a_partial_run_measures_the_floor_its_ratios_divide_by(fast_bench):
    """`--only ingest_cold` runs the floor too: the machine's speed drifts, so a ratio to a floor
    measured in another run would say more about the hour than about the code."""
    tmp, _ = fast_bench
    again = run_bench(tmp, "ingest_cold")
    this_run = json.loads(sorted((tmp / "results").glob("*Z-tiny.json"))[-1].read_text(encoding="utf-8"))
    assert set(this_run["stages"]) == {"floor", "ingest_cold"}
    floor, cold = this_run["stages"]["floor"], this_run["stages"]["ingest_cold"]
    assert again["stages"]["floor"]["measured_at"] == floor["measured_at"]
    assert again["ratios"]["ingest_cold / floor"] == round(cold["seconds"] / floor["seconds"], 2)


def test_table_prints_stages_ratios_and_targets(fast_bench):
    _, results = fast_bench
    text = table(results)
    for word in ("floor", "ingest_cold", "ingest_warm", "ratios:", "targets (times", "load 1m", "others"):
        assert word in text
    assert text in results["_stdout"]


def _record(seconds: float, peak_gib: float = 1.0, **result) -> dict:
    peak = int(peak_gib * 2**30)
    return {
        "seconds": seconds,
        "returncode": 0,
        "result": result,
        "peak_tree_bytes": peak,
        "peak_process_bytes": peak,
    }


def test_judge_marks_a_miss():
    stages = {
        "floor": _record(10.0),
        "ingest_cold": _record(20.0),
        "ingest_warm": _record(3.0, files_parsed=1),
    }
    ratios, targets = judge(stages)
    assert ratios["ingest_cold / floor"] == 2.0
    assert [t["met"] for t in targets] == [False, False]  # too slow; and a warm run parsed a file


def test_judge_holds_every_target_to_the_same_runs_floor():
    """The targets are ratios to the floor: twice the floor's time with twice every stage's
    time is judged the same (a loaded machine slows both)."""
    stages = {
        "floor": _record(30.0),
        "ingest_cold": _record(45.0),
        "dbt": _record(50.0),
        "quality": _record(10.0),
        "make_run": _record(120.0, peak_gib=2.9),
        "unchanged": _record(9.0),
        "incremental": _record(16.0),
        "scale10_dbt": _record(560.0, peak_gib=7.5),
        "scale10_quality": _record(150.0),
    }
    ratios, targets = judge(stages)
    met = {t["target"]: t["met"] for t in targets}
    assert met == {
        "ingest_cold ≤ 1.5 × floor": True,
        "dbt ≤ 1.5 × floor": False,  # 1.67
        "make_run ≤ 4 × floor": True,
        "incremental ≤ 0.5 × floor": False,  # 0.53
        "unchanged ≤ 0.3 × floor": True,
        "whole build peak ≤ 3 GiB": True,
        "10 × province dbt + checks ≤ 12 × province": True,  # 710 ÷ 60 = 11.83
        "10 × province peak ≤ 8 GiB": True,
    }
    slower = {name: {**r, "seconds": 2 * r["seconds"]} for name, r in stages.items()}
    assert judge(slower)[0] == ratios


def test_analyst_queries_are_read_from_the_dbt_readme():
    queries = analyst_queries()
    assert len(queries) >= 5
    assert [q.number for q in queries] == list(range(1, len(queries) + 1))
    assert all(q.sql.lower().startswith("select") and ";" not in q.sql for q in queries)


def test_next_month_ledger_is_a_new_parseable_file(fast_bench, tmp_path):
    tmp, results = fast_bench
    world = tmp / "cache" / f"{results['generator_version']}-2015-tiny"
    raw = tmp_path / "raw"
    (raw / "training_ledgers").mkdir(parents=True)
    path, rows = write_next_month_ledger(world, raw, tmp_path / "scratch")
    assert rows == pick_ledger(world)["rows"] > 0
    parsed = parse_file(path, "training_records", tmp_path / "parts")
    assert parsed.status == "loaded" and parsed.rows_loaded == rows
    original = parse_file(world / pick_ledger(world)["path"], "training_records", tmp_path / "orig")
    with duckdb.connect() as con:
        months = con.execute(
            "select (select max(start_date) from read_parquet(?)) "
            "> (select max(start_date) from read_parquet(?))",
            [parsed.row_parts, original.row_parts],
        ).fetchone()[0]
    assert months, "course dates were not moved a month on"


def test_scale10_copies_people_with_valid_distinct_ids(fast_bench, tmp_path):
    tmp, _ = fast_bench
    source = tmp / "work" / "stages" / "training.duckdb"
    counts = synthesise(source, tmp_path / "x3.duckdb", copies=3)
    with duckdb.connect(str(source), read_only=True) as con:
        one = con.execute("select count(*) from raw.household_members").fetchone()[0]
        ledger = con.execute("select count(*) from raw.training_records").fetchone()[0]
        villages = con.execute("select count(*) from raw.village_statistics").fetchone()[0]
    assert counts["household_members"] == 3 * one
    assert counts["training_records"] == 3 * ledger
    assert counts["village_statistics"] == villages
    with duckdb.connect(str(tmp_path / "x3.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select id_number, household_number, source_file from raw.household_members "
            "where source_file like 'copy-2/%'"
        ).fetchall()
        distinct_keys = con.execute(
            "select count(distinct (source_file, sheet, row_number)) = count(*) from raw.household_members"
        ).fetchone()[0]
    valid_in_copy = sum(ric.is_valid(i) for i, _, _ in rows if i)
    assert len(rows) == one and valid_in_copy >= 0.9 * one
    assert distinct_keys


@pytest.mark.slow
def test_whole_bench_on_the_tiny_world(tmp_path):
    """Every default stage, Dagster ones included (minutes, not seconds)."""
    results = run_bench(tmp_path)
    stages = results["stages"]
    for name in ("dbt", "quality", "reports", "publish", "queries", "make_run", "unchanged", "incremental"):
        assert name in stages, name
    assert stages["dbt"]["returncode"] == 0
    assert stages["publish"]["result"]["tables"] > 10
    assert len(stages["queries"]["result"]["queries"]) == len(analyst_queries())
    assert stages["incremental"]["result"]["files_parsed"] == 1
    assert stages["unchanged"]["result"]["files_parsed"] == 0
    assert stages["unchanged"]["result"]["ingest_ran"] is False  # nothing changed: no Dagster run at all
    assert any("nothing" in line for line in stages["unchanged"]["result"]["dagster"])
    assert {t["target"] for t in results["targets"]} >= {"make_run ≤ 4 × floor", "unchanged ≤ 0.3 × floor"}
