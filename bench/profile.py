"""Where the time goes, in CPU seconds (not wall: the machine is shared, CPU time is what a stage costs).

    python -m bench.profile parse [--every 10]      floor vs ingest's parse_file, per file format
    python -m bench.profile parse --grouped          the same files parsed in ingest's groups
    python -m bench.profile model NAME [--threads 2] one dbt model's operators (DuckDB profiler)

``parse`` reads every N-th file of the cached province world twice in one process — python-calamine
(or csv) alone, then ``orchestration.lib.ingest.reader.parse_file`` — and sums process CPU time
by format: the ratio is ingest's cost over the floor without the noise of other processes.
``--grouped`` parses them as ``ingest_raw`` does, small files of a source together in one
``parse_files`` call (they share their DuckDB passes), and prints the totals only.
``model`` runs the compiled SQL of a dbt model (from the bench's last dbt stage) as
``create table`` in a scratch schema of the bench warehouse (dropped after), with DuckDB's profiler on,
and prints the operators that took over 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import world


def profile_parse(every: int, scale: str = "province", seed: int = 2015, grouped: bool = False) -> None:
    from bench.stages import read_file_floor
    from orchestration.lib.ingest.reader import parse_file

    root = world.world_dir(scale, seed)
    files = world.manifest(root)["files"][::every]
    parse_file(root / files[0]["path"], files[0]["source"], Path(tempfile.mkdtemp()))  # imports, DuckDB
    if grouped:
        _profile_grouped(root, files)
        return
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for entry in files:
        path = root / entry["path"]
        started = time.process_time()
        read_file_floor(path)
        floor = time.process_time() - started
        scratch = Path(tempfile.mkdtemp())
        started = time.process_time()
        parse_file(path, entry["source"], scratch, threads=1)
        parse = time.process_time() - started
        shutil.rmtree(scratch)
        for key in (entry["format"].split("-")[0], "all"):
            total = totals[key]
            total[0] += 1
            total[1] += floor
            total[2] += parse
            total[3] += entry["rows"]
    print(
        f"{'format':8}{'files':>7}{'rows':>10}{'floor cpu s':>13}{'parse cpu s':>13}"
        f"{'ratio':>7}{'ms/file':>9}"
    )
    for key, (n, floor, parse, rows) in sorted(totals.items()):
        print(
            f"{key:8}{n:>7}{rows:>10,}{floor:>13.2f}{parse:>13.2f}"
            f"{parse / floor:>7.2f}{parse / n * 1000:>9.0f}"
        )


def _profile_grouped(root: Path, files: list[dict]) -> None:
    from bench.stages import read_file_floor
    from orchestration.lib.ingest.pipeline import FoundFile, Plan, _file_tasks, _groups
    from orchestration.lib.ingest.reader import parse_files
    from orchestration.sources import SOURCES

    started = time.process_time()
    for entry in files:
        read_file_floor(root / entry["path"])
    floor = time.process_time() - started
    tasks = []
    plans = {name: Plan(source, "profile") for name, source in SOURCES.items()}
    for entry in files:
        path = root / entry["path"]
        tasks.append((plans[entry["source"]], FoundFile(entry["path"], path, None, path.stat().st_size)))
    groups = _groups(tasks)
    started = time.process_time()
    for group in groups:
        scratch = Path(tempfile.mkdtemp())
        parse_files(_file_tasks(group), scratch, threads=1)
        shutil.rmtree(scratch)
    parse = time.process_time() - started
    rows = sum(entry["rows"] for entry in files)
    print(f"{len(files)} files in {len(groups)} groups, {rows:,} rows")
    print(f"floor {floor:.2f} cpu s, parse_files {parse:.2f} cpu s, ratio {parse / floor:.2f}")


def profile_model(name: str, threads: int, work: Path) -> None:
    import duckdb

    from orchestration.lib.transform.duckdb_pii_plugin import hmac_macro_sql
    from orchestration.settings import pii_key

    compiled = next((work / "dbt_target" / "compiled").rglob(f"{name}.sql"))
    warehouse = work / "stages" / "training.duckdb"
    output = Path(tempfile.mkdtemp()) / "profile.json"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(hmac_macro_sql(pii_key()))
        con.execute(f"set threads = {threads}")
        con.execute("create schema if not exists bench_scratch")
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{output}'")
        started = time.perf_counter()
        con.execute(f"create or replace table bench_scratch.model as {compiled.read_text()}")
        seconds = time.perf_counter() - started
        con.execute("pragma disable_profiling")
        con.execute("drop schema bench_scratch cascade")
    profile = json.loads(output.read_text())
    print(f"{name}: {seconds:.1f} s wall, {profile.get('cpu_time', 0):.1f} s in operators (all threads)")

    def walk(node: dict, depth: int) -> None:
        timing = node.get("operator_timing", 0)
        if timing > 0.3:
            extra = node.get("extra_info") or {}
            what = str(extra.get("Projections") or extra.get("Conditions") or extra.get("Table") or "")[:90]
            print(
                f"{timing:8.2f} s {'  ' * depth}{node.get('operator_name')} "
                f"rows={node.get('operator_cardinality')} {what}"
            )
        for child in node.get("children", []):
            walk(child, depth + 1)

    for child in profile.get("children", []):
        walk(child, 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    sub = parser.add_subparsers(dest="what", required=True)
    parse = sub.add_parser("parse")
    parse.add_argument("--every", type=int, default=10)
    parse.add_argument("--grouped", action="store_true", help="in ingest's groups, totals only")
    model = sub.add_parser("model")
    model.add_argument("name")
    model.add_argument("--threads", type=int, default=2)
    model.add_argument("--work-dir", type=Path, default=world.cache_dir() / "work-province")
    args = parser.parse_args(argv)
    if args.what == "parse":
        profile_parse(args.every, grouped=args.grouped)
    else:
        profile_model(args.name, args.threads, args.work_dir)


if __name__ == "__main__":
    main()
