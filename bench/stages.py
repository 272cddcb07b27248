"""The measured stages, each run as ``python -m bench.stages STAGE …`` in its own process.

A stage does one thing with the project's own plain functions (no Dagster unless the stage
is about Dagster) and ends by printing ``BENCH_RESULT {json}`` with its counts; the harness
(``bench.run``) times it from outside, with its memory and the machine's load.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from bench.measure import report_result

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK"
QUERY_REPEATS = 10


# --- the floor: python-calamine (csv: the csv module) reading every file, nothing else ---------


def data_files(raw_dir: Path) -> list[Path]:
    from orchestration.lib.ingest.file_types import DATA_EXTENSIONS
    from orchestration.sources import SOURCES

    files = []
    for source in SOURCES.values():
        folder = raw_dir / source.folder
        files += [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DATA_EXTENSIONS]
    return sorted(files, key=lambda p: -p.stat().st_size)  # big first: the pool ends together


def read_file_floor(path: Path) -> tuple[int, int, str | None]:
    """(rows, sheets, error) of one file read to the last cell with no other work."""
    from python_calamine import CalamineWorkbook

    try:
        with path.open("rb") as f:
            head = f.read(8)
        if head.startswith((OLE_MAGIC, ZIP_MAGIC)):
            try:
                workbook = CalamineWorkbook.from_path(str(path))
            except Exception:  # content and extension disagree: let calamine sniff the bytes
                workbook = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
            rows = sheets = 0
            with workbook:
                for name in workbook.sheet_names:
                    sheet = workbook.get_sheet_by_name(name)
                    sheets += 1
                    if sheet.start is not None:
                        for _ in sheet.iter_rows():
                            rows += 1
            return rows, sheets, None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                with path.open(encoding=encoding, newline="") as f:
                    return sum(1 for _ in csv.reader(f)), 1, None
            except UnicodeDecodeError:
                continue
        return 0, 0, "no encoding"
    except BaseException as error:  # noqa: BLE001 - a file ingest refuses is not read by the floor either
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        return 0, 0, f"{type(error).__name__}: {error}"[:200]


def stage_floor(args) -> None:
    files = data_files(args.raw)
    workers = args.workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(read_file_floor, files, chunksize=1))
    errors = [f"{p.name}: {e}" for p, (_, _, e) in zip(files, results, strict=True) if e]
    report_result(
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        rows=sum(r for r, _, _ in results),
        sheets=sum(s for _, s, _ in results),
        files_unreadable=len(errors),
        unreadable_examples=errors[:5],
        workers=workers,
    )


# --- ingest, plain function (orchestration/lib/ingest/pipeline.py) ----------------------------


def stage_ingest(args) -> None:
    from orchestration.lib.ingest.pipeline import ingest_raw

    report = ingest_raw(args.raw, args.warehouse, workers=args.workers)
    outcomes = report.outcomes
    by_status: dict[str, int] = {}
    for outcome in outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    parsed = [o for o in outcomes if o.status in ("loaded", "failed") and o.seconds is not None]
    report_result(
        files=len(outcomes),
        files_parsed=report.files_parsed,
        files_by_status=by_status,
        rows=sum(o.rows_loaded + o.rows_quarantined for o in parsed),
        rows_read=sum(o.rows_read for o in parsed),
        rows_loaded=sum(o.rows_loaded for o in parsed),
        rows_quarantined=sum(o.rows_quarantined for o in parsed),
        parse_seconds_sum=round(sum(o.seconds or 0 for o in parsed), 2),
        ingest_seconds=round(report.seconds, 2),
    )


# --- dbt build alone ---------------------------------------------------------------------------


def stage_dbt(args) -> None:
    from orchestration.lib.transform.project import dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR, OFFLINE_ENV

    target = args.work / "dbt_target"
    env = {
        **os.environ,
        **OFFLINE_ENV,
        "TRAINING_WAREHOUSE": str(args.warehouse),
        "DBT_TARGET_PATH": str(target),  # not the project's target/: Dagster reads its manifest there
        "DBT_LOG_PATH": str(args.work / "dbt_logs"),
    }
    command = [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR)]
    completed = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=False)
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    statuses: dict[str, int] = {}
    slowest = sorted(results, key=lambda r: -(r.get("execution_time") or 0))[:8]
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    report_result(
        returncode=completed.returncode,
        nodes=len(results),
        statuses=statuses,
        slowest={r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in slowest},
        rows=_raw_rows(args.warehouse),
    )
    if completed.returncode not in (0, 1):  # 1: a test failed, which the data is built to do
        sys.exit(completed.returncode)


def _raw_rows(warehouse: Path) -> int:
    import duckdb

    from orchestration.sources import SOURCES

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(
            con.execute(f'select count(*) from raw."{s.table}"').fetchone()[0] for s in SOURCES.values()
        )


# --- the quality checks alone (the GX suites the Dagster checks run) ----------------------------


def stage_quality(args) -> None:
    import duckdb

    from orchestration.lib.quality.gx_runner import load_suite, run_suite, suite_names
    from orchestration.lib.quality.validation_runs import append_run

    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    suites = {}
    with duckdb.connect(str(args.warehouse)) as con:
        for name in suite_names():
            suite = load_suite(name)
            started = time.perf_counter()
            try:
                run = run_suite(con, suite)
            except duckdb.Error as error:  # its relation was not built (a dbt build that failed)
                suites[name] = {
                    "rows": 0,
                    "seconds": round(time.perf_counter() - started, 2),
                    "error": str(error),
                }
                continue
            append_run(con, run, run_id=run_id, asset_key="/".join(suite.meta["asset_key"]))
            suites[name] = {"rows": run.rows, "seconds": round(run.seconds, 2), "failed": len(run.failed)}
    report_result(suites=suites, rows=sum(s["rows"] for s in suites.values()))
    if any("error" in s for s in suites.values()):
        sys.exit(3)


# --- the city reports alone --------------------------------------------------------------------


def stage_reports(args) -> None:
    from bench.reports import build_all_reports

    written = build_all_reports(args.warehouse, args.work / "reports", workers=args.workers)
    report_result(**written)


# --- the snapshot publish alone ----------------------------------------------------------------


def stage_publish(args) -> None:
    from orchestration.lib.publish.snapshot import publish_snapshot

    stats = publish_snapshot(args.warehouse, args.snapshot)
    report_result(tables=len(stats.tables), rows=sum(stats.tables.values()), bytes=stats.bytes)


# --- the analysts' queries on the snapshot -----------------------------------------------------


def stage_queries(args) -> None:
    import duckdb

    from bench.queries import analyst_queries

    timings = {}
    with duckdb.connect(str(args.snapshot), read_only=True) as con:
        for query in analyst_queries():
            started = time.perf_counter()
            rows = len(con.execute(query.sql).fetchall())
            first = time.perf_counter() - started
            runs = []
            for _ in range(QUERY_REPEATS):
                started = time.perf_counter()
                con.execute(query.sql).fetchall()
                runs.append(time.perf_counter() - started)
            timings[str(query.number)] = {
                "title": query.title,
                "rows": rows,
                "first_ms": round(first * 1000, 2),
                "median_ms": round(statistics.median(runs) * 1000, 2),
                "max_ms": round(max(runs) * 1000, 2),
            }
    report_result(queries=timings)


STAGES = {
    "floor": stage_floor,
    "ingest": stage_ingest,
    "dbt": stage_dbt,
    "quality": stage_quality,
    "reports": stage_reports,
    "publish": stage_publish,
    "queries": stage_queries,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--snapshot", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    STAGES[args.stage](args)


if __name__ == "__main__":
    main()
