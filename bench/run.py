"""The benchmark run: every stage in its own process, on the same cached world, in one go.

Order (each stage needs the ones before it; ``--only`` re-runs some and keeps the rest of
``latest.json`` as it was, each stage carrying its own time and load average; a stage judged
against the floor brings the floor along, so its ratio divides by a floor of the same run):

floor         python-calamine (csv: the csv module) reading every file on all cores
ingest_cold   ingest_raw into an empty warehouse                              (warehouse A)
ingest_warm   ingest_raw again, nothing changed: must parse no file           (A)
dbt           dbt build alone                                                 (A)
quality       the GX suites alone                                             (A)
reports       the city reports alone                                          (A)
publish       the analysts' snapshot alone                                    (A → snapshot A)
queries       the README's analyst queries on that snapshot, median of 10
make_run      `python -m orchestration.run` on an empty warehouse: ingest → snapshot (B)
unchanged     `python -m orchestration.run` again, nothing changed                 (B)
incremental   one new county ledger added, `python -m orchestration.run` again (B)
scale10       (only when asked) ten times the province in the raw tables, dbt and checks (C)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import report, world
from bench.measure import Measurement, run_stage
from orchestration.generate.run import GENERATOR_VERSION
from orchestration.settings import OFFLINE_ENV

STAGES = (
    "floor",
    "ingest_cold",
    "ingest_warm",
    "dbt",
    "quality",
    "reports",
    "publish",
    "queries",
    "make_run",
    "unchanged",
    "incremental",
)
OPTIONAL_STAGES = ("scale10",)
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Paths:
    """Where one bench run works: outside git, beside the cached worlds."""

    work: Path

    @property
    def raw(self) -> Path:
        return self.work / "raw"

    @property
    def stages_warehouse(self) -> Path:  # A: the stages one by one
        return self.work / "stages" / "training.duckdb"

    @property
    def stages_snapshot(self) -> Path:
        return self.work / "stages" / "analytics.duckdb"

    @property
    def run_dir(self) -> Path:  # B: the make-run equivalent and the incremental month
        return self.work / "make_run"

    @property
    def scale10_warehouse(self) -> Path:  # C
        return self.work / "scale10" / "training.duckdb"

    @property
    def logs(self) -> Path:
        return self.work / "logs"


def stage_command(stage: str, paths: Paths, workers: int | None, **overrides: Path) -> list[str]:
    command = [sys.executable, "-m", "bench.stages", stage, "--work", str(paths.work)]
    options = {
        "raw": paths.raw,
        "warehouse": paths.stages_warehouse,
        "snapshot": paths.stages_snapshot,
        **overrides,
    }
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    if workers:
        command += ["--workers", str(workers)]
    return command


def pipeline_env(paths: Paths) -> dict[str, str]:
    """The environment `make run` would have, pointed at the bench's own folders."""
    run_dir = paths.run_dir
    return {
        **os.environ,
        **OFFLINE_ENV,
        "TRAINING_RAW_DIR": str(paths.raw),
        "TRAINING_WAREHOUSE": str(run_dir / "training.duckdb"),
        "TRAINING_ANALYTICS_DB": str(run_dir / "analytics.duckdb"),
        "TRAINING_REPORTS_DIR": str(run_dir / "reports"),
        "DAGSTER_HOME": str(run_dir / "dagster_home"),
    }


def last_ingest_run(warehouse: Path) -> dict:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select * from audit.ingest_runs order by started_at desc limit 1").fetchone()
        names = [d[0] for d in con.description]
    return dict(zip(names, row, strict=True)) if row else {}


def raw_rows(warehouse: Path) -> int:
    from bench.stages import _raw_rows

    return _raw_rows(warehouse)


class Bench:
    def __init__(self, scale: str, seed: int, workers: int | None, results_dir: Path, work: Path, log=print):
        self.scale, self.seed, self.workers = scale, seed, workers
        self.results_dir = results_dir
        self.paths = Paths(work)
        self.log = log
        self.measured: dict[str, dict] = {}
        self.started = dt.datetime.now(dt.UTC)

    # -- helpers --------------------------------------------------------------------------------

    def _measure(self, stage: str, command: list[str], env=None, cwd=None, **extra) -> Measurement:
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.paths.logs / f"{stage}.log"
        load = os.getloadavg()[0]
        self.log(f"· {stage:<12} running (load {load:.1f}) — log {log_path}")
        measurement = run_stage(stage, command, env=env, cwd=cwd, log_path=log_path)
        measurement.result.update(extra)
        record = measurement.as_json()
        record["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.measured[stage] = record
        self.save(final=False)  # a run cut short still leaves what it measured
        status = "ok" if measurement.ok else f"FAILED (exit {measurement.returncode})"
        self.log(
            f"  {stage:<12} {measurement.seconds:8.1f} s  "
            f"peak {measurement.peak_tree_bytes / 2**20:7.0f} MiB  {status}"
        )
        if not measurement.ok:
            self.log("  " + measurement.output_tail.replace("\n", "\n  "))
        return measurement

    def _need(self, path: Path, stage: str) -> None:
        if not path.exists():
            raise SystemExit(f"{path} is missing: run the '{stage}' stage first (or the whole bench)")

    # -- the world ------------------------------------------------------------------------------

    def prepare_world(self) -> Path:
        target = world.world_dir(self.scale, self.seed)
        if not (target / "manifest.json").is_file():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            command = [sys.executable, "-m", "orchestration.generate", "--scale", self.scale]
            command += ["--seed", str(self.seed), "--out", str(partial)]
            command += ["--workers", str(self.workers)] if self.workers else []
            self.log(f"generating the {self.scale} world (seed {self.seed}) once, cached at {target}")
            measurement = self._measure("generate", command)
            if not measurement.ok:
                raise SystemExit("generation failed")
            shutil.rmtree(target, ignore_errors=True)
            partial.rename(target)
        world.link_copy(target, self.paths.raw)
        return target

    # -- the stages -----------------------------------------------------------------------------

    def floor(self) -> None:
        self._measure("floor", stage_command("floor", self.paths, self.workers))

    def ingest_cold(self) -> None:
        shutil.rmtree(self.paths.stages_warehouse.parent, ignore_errors=True)
        self._measure("ingest_cold", stage_command("ingest", self.paths, self.workers))

    def ingest_warm(self) -> None:
        self._need(self.paths.stages_warehouse, "ingest_cold")
        self._measure("ingest_warm", stage_command("ingest", self.paths, self.workers))

    def dbt(self) -> None:
        self._need(self.paths.stages_warehouse, "ingest_cold")
        self._measure("dbt", stage_command("dbt", self.paths, self.workers))

    def quality(self) -> None:
        self._measure("quality", stage_command("quality", self.paths, self.workers))

    def reports(self) -> None:
        self._measure("reports", stage_command("reports", self.paths, self.workers))

    def publish(self) -> None:
        self._measure("publish", stage_command("publish", self.paths, self.workers))

    def queries(self) -> None:
        self._need(self.paths.stages_snapshot, "publish")
        self._measure("queries", stage_command("queries", self.paths, self.workers))

    def make_run(self) -> None:
        shutil.rmtree(self.paths.run_dir, ignore_errors=True)
        env = pipeline_env(self.paths)
        m = self._measure("make_run", [sys.executable, "-m", "orchestration.run"], env=env)
        self._after_pipeline_run(m)

    def unchanged(self) -> None:
        warehouse = Path(pipeline_env(self.paths)["TRAINING_WAREHOUSE"])
        self._need(warehouse, "make_run")
        env = pipeline_env(self.paths)
        before = self._ingest_run_id()
        m = self._measure("unchanged", [sys.executable, "-m", "orchestration.run"], env=env)
        self._after_pipeline_run(m, before)

    def incremental(self) -> None:
        warehouse = Path(pipeline_env(self.paths)["TRAINING_WAREHOUSE"])
        self._need(warehouse, "make_run")
        target = world.world_dir(self.scale, self.seed)
        path, rows = world.write_next_month_ledger(target, self.paths.raw, self.paths.work / "scratch")
        self.log(f"  added {path.name} ({rows} rows)")
        env = pipeline_env(self.paths)
        m = self._measure(
            "incremental", [sys.executable, "-m", "orchestration.run"], env=env, new_file_rows=rows
        )
        self._after_pipeline_run(m)

    def _ingest_run_id(self) -> str | None:
        warehouse = Path(pipeline_env(self.paths)["TRAINING_WAREHOUSE"])
        return last_ingest_run(warehouse).get("run_id") if warehouse.exists() else None

    def _after_pipeline_run(self, m: Measurement, ingest_before: str | None = None) -> None:
        warehouse = Path(pipeline_env(self.paths)["TRAINING_WAREHOUSE"])
        record = self.measured[m.stage]["result"]
        if warehouse.exists():
            ingest = last_ingest_run(warehouse)
            ran = ingest.get("run_id") != ingest_before  # `make run` with nothing changed ingests nothing
            record["ingest_ran"] = ran
            record["files_parsed"] = ingest.get("files_parsed") if ran else 0
            record["ingest_seconds"] = round(ingest.get("seconds") or 0, 2) if ran else 0.0
            record.setdefault("rows", raw_rows(warehouse))
        for line in m.output_tail.splitlines():
            if line.startswith(("update ", "plan: ", "slowest steps: ")):
                record.setdefault("dagster", []).append(line.strip())

    def scale10(self) -> None:
        from bench import scale10

        self._need(self.paths.stages_warehouse, "ingest_cold")
        scale10.run(self, self.paths.stages_warehouse, self.paths.scale10_warehouse)

    # -- the whole run --------------------------------------------------------------------------

    def run(self, only: list[str] | None) -> dict:
        chosen = only or list(STAGES)
        if "floor" not in chosen and any(stage in chosen for _, stage, _ in report.FLOOR_TARGETS):
            # a target is a ratio to the floor of the same run: a partial run measures it too
            chosen = ["floor", *chosen]
        self.log(f"bench: scale {self.scale}, seed {self.seed}, stages {', '.join(chosen)}")
        self.prepare_world()
        for stage in [*STAGES, *OPTIONAL_STAGES]:
            if stage in chosen:
                getattr(self, stage)()
        return self.save()

    def save(self, final: bool = True) -> dict:
        now = dt.datetime.now(dt.UTC)
        header = {
            "scale": self.scale,
            "seed": self.seed,
            "generator_version": GENERATOR_VERSION,
            "workers": self.workers or os.cpu_count(),
            "cpus": os.cpu_count(),
            "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "python": sys.version.split()[0],
        }
        self.results_dir.mkdir(parents=True, exist_ok=True)
        this_run = {**header, "finished_at": now.isoformat(timespec="seconds"), "stages": self.measured}
        name = f"{self.started:%Y%m%dT%H%M%SZ}-{self.scale}.json"
        (self.results_dir / name).write_text(json.dumps(this_run, indent=1, ensure_ascii=False) + "\n")
        latest_path = self.results_dir / (
            "latest.json" if self.scale == "province" else f"latest-{self.scale}.json"
        )
        latest = json.loads(latest_path.read_text()) if latest_path.exists() else {}
        same_world = all(latest.get(k) == header[k] for k in ("scale", "seed", "generator_version"))
        stages = {**(latest.get("stages", {}) if same_world else {}), **self.measured}
        merged = {**header, "finished_at": now.isoformat(timespec="seconds"), "stages": stages}
        merged["ratios"], merged["targets"] = report.judge(stages)
        latest_path.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
        if not final:
            return merged
        self.log("")
        self.log(report.table(merged))
        self.log(f"\nresults: {self.results_dir / name} and {latest_path}")
        return merged
