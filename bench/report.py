"""The bench table, its ratios and the targets of issue 7, from the stages' records."""

from __future__ import annotations

GIB = 2**30
MIB = 2**20

TARGET_MEMORY_BYTES = 6 * GIB


def _stage(stages: dict, name: str) -> dict | None:
    record = stages.get(name)
    return record if record and record.get("returncode") == 0 else None


def judge(stages: dict) -> tuple[dict, list[dict]]:
    """(ratios, targets) of the measured stages; a target whose stages are missing is left out."""
    ratios: dict[str, float] = {}
    floor, cold, warm = (_stage(stages, s) for s in ("floor", "ingest_cold", "ingest_warm"))
    if floor and cold:
        ratios["ingest_cold / floor"] = round(cold["seconds"] / floor["seconds"], 2)
    if cold and warm:
        ratios["ingest_warm / ingest_cold"] = round(warm["seconds"] / cold["seconds"], 3)
    run = _stage(stages, "make_run")
    if run and cold:
        ratios["make_run / ingest_cold"] = round(run["seconds"] / cold["seconds"], 2)

    targets = []

    def target(name: str, shown: str, met: bool) -> None:
        targets.append({"target": name, "measured": shown, "met": met})

    if "ingest_cold / floor" in ratios:
        r = ratios["ingest_cold / floor"]
        target("ingest cold ≤ 1.3 × floor", f"{r:.2f} ×", r <= 1.3)
    if warm:
        parsed = warm["result"].get("files_parsed")
        shown = f"{warm['seconds']:.1f} s, {parsed} parsed"
        target("ingest warm < 15 s, no file parsed", shown, warm["seconds"] < 15 and parsed == 0)
    incremental = _stage(stages, "incremental")
    if incremental:
        parsed = incremental["result"].get("files_parsed")
        shown = f"{incremental['seconds']:.1f} s ({parsed} file parsed)"
        target("incremental month end to end < 60 s", shown, incremental["seconds"] < 60)
    if run:
        target(
            "whole build ingest → snapshot < 5 min", f"{run['seconds'] / 60:.1f} min", run["seconds"] < 300
        )
        peak = max(run["peak_tree_bytes"], run["peak_process_bytes"])
        target("whole build peak memory < 6 GiB", f"{peak / GIB:.2f} GiB", peak < TARGET_MEMORY_BYTES)
    queries = _stage(stages, "queries")
    if queries:
        slowest = max(q["median_ms"] for q in queries["result"]["queries"].values())
        target("each analyst query < 100 ms (median of 10)", f"slowest {slowest:.1f} ms", slowest < 100)
    return ratios, targets


def _rows(record: dict) -> int | None:
    return record.get("result", {}).get("rows")


def table(results: dict) -> str:
    stages = results["stages"]
    lines = [
        f"bench · scale {results['scale']} · seed {results['seed']} · "
        f"generator {results['generator_version']} · "
        f"{results['cpus']} CPUs · {results['memory_bytes'] / GIB:.0f} GiB · workers {results['workers']}",
        "",
        f"{'stage':<14}{'seconds':>9}{'rows':>12}{'rows/s':>10}{'peak MiB':>10}{'proc MiB':>10}"
        f"{'load 1m':>13}  measured (UTC)",
    ]
    for name, record in stages.items():
        rows = _rows(record)
        seconds = record["seconds"]
        rate = f"{rows / seconds:,.0f}" if rows and seconds and name not in ("incremental", "queries") else ""
        load = f"{record['load_before'][0]:.1f}→{record['load_after'][0]:.1f}"
        failed = "" if record["returncode"] == 0 else f"  FAILED exit {record['returncode']}"
        lines.append(
            f"{name:<14}{seconds:>9.1f}{(f'{rows:,}' if rows is not None else ''):>12}{rate:>10}"
            f"{record['peak_tree_bytes'] / MIB:>10,.0f}{record['peak_process_bytes'] / MIB:>10,.0f}"
            f"{load:>13}  {record.get('measured_at', '')[:16]}{failed}"
        )
    notes = _notes(stages)
    if notes:
        lines += ["", *notes]
    queries = stages.get("queries", {}).get("result", {}).get("queries")
    if queries:
        lines += ["", "analyst queries on the snapshot (ms: median of 10, first run, rows):"]
        for number, q in queries.items():
            lines.append(
                f"  {number}. {q['median_ms']:7.1f}  {q['first_ms']:7.1f}  {q['rows']:>5}  {q['title']}"
            )
    ratios, targets = judge(stages)
    if ratios:
        lines += ["", "ratios: " + " · ".join(f"{k} = {v}" for k, v in ratios.items())]
    if targets:
        lines += ["", "targets:"]
        lines += [f"  {'met ' if t['met'] else 'MISS'}  {t['target']:<45} {t['measured']}" for t in targets]
    return "\n".join(lines)


def _notes(stages: dict) -> list[str]:
    notes = []
    for name in ("ingest_cold", "ingest_warm"):
        result = stages.get(name, {}).get("result", {})
        if result:
            parsed, files, by_status = (
                result.get("files_parsed"),
                result.get("files"),
                result.get("files_by_status"),
            )
            notes.append(f"{name}: {parsed} of {files} files parsed, by status {by_status}")
    floor = stages.get("floor", {}).get("result", {})
    if floor:
        size = floor["bytes"] / MIB
        notes.append(
            f"floor: {floor['files']} files, {size:,.0f} MiB, {floor['sheets']} sheets, "
            f"{floor['files_unreadable']} unreadable (ingest refuses them too)"
        )
    for name in ("make_run", "incremental"):
        result = stages.get(name, {}).get("result", {})
        if result.get("dagster"):
            parsed, seconds = result.get("files_parsed"), result.get("ingest_seconds")
            notes.append(f"{name}: {result['dagster']}; ingest parsed {parsed} files in {seconds} s")
    return notes
