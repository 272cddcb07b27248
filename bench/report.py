"""The bench table, its ratios and the performance targets, from the stages' records.

Every time target is a ratio to the parse floor measured in the same run, so it holds on a quiet
or a loaded machine alike (each stage's record also says how loaded the machine was).
"""

from __future__ import annotations

GIB = 2**30
MIB = 2**20

# (ratio name, numerator stage, at most): seconds of the stage ÷ seconds of the floor
FLOOR_TARGETS = (
    ("ingest_cold / floor", "ingest_cold", 1.5),
    ("dbt / floor", "dbt", 1.5),
    ("make_run / floor", "make_run", 4.0),
    ("incremental / floor", "incremental", 0.5),
    ("unchanged / floor", "unchanged", 0.3),
)
TARGET_PEAK_BYTES = 3 * GIB  # the whole build on the province
SCALE10_RATIO = 12.0  # ten provinces ÷ one: linear would be 10
TARGET_PEAK_SCALE10_BYTES = 8 * GIB
SCALE10_STAGES = ("scale10_dbt", "scale10_quality")
PROVINCE_COUNTERPARTS = ("dbt", "quality")  # what the ten-province stages repeat


def _stage(stages: dict, name: str) -> dict | None:
    record = stages.get(name)
    return record if record and record.get("returncode") == 0 else None


def _peak(record: dict) -> int:
    return max(record["peak_tree_bytes"], record["peak_process_bytes"])


def judge(stages: dict) -> tuple[dict, list[dict]]:
    """(ratios, targets) of the measured stages; a target whose stages are missing is left out."""
    ratios: dict[str, float] = {}
    targets: list[dict] = []

    def target(name: str, shown: str, met: bool) -> None:
        targets.append({"target": name, "measured": shown, "met": met})

    floor = _stage(stages, "floor")
    for name, stage, most in FLOOR_TARGETS:
        record = _stage(stages, stage)
        if floor and record:
            ratio = ratios[name] = round(record["seconds"] / floor["seconds"], 2)
            shown = f"{ratio:.2f} × ({record['seconds']:.1f} s ÷ {floor['seconds']:.1f} s)"
            target(f"{stage} ≤ {most:g} × floor", shown, ratio <= most)
            if record.get("cpu_seconds") and floor.get("cpu_seconds"):
                # CPU time moves less than wall time when other work shares the cores
                ratios[f"{stage} cpu / floor cpu"] = round(record["cpu_seconds"] / floor["cpu_seconds"], 2)
    warm = _stage(stages, "ingest_warm")
    if warm:
        parsed = warm["result"].get("files_parsed")
        target("ingest warm parses no file", f"{parsed} parsed in {warm['seconds']:.1f} s", parsed == 0)
    run = _stage(stages, "make_run")
    if run:
        peak = _peak(run)
        target(
            f"whole build peak ≤ {TARGET_PEAK_BYTES / GIB:g} GiB",
            f"{peak / GIB:.2f} GiB",
            peak <= TARGET_PEAK_BYTES,
        )
    ten = [_stage(stages, s) for s in SCALE10_STAGES]
    one = [_stage(stages, s) for s in PROVINCE_COUNTERPARTS]
    if all(ten) and all(one):
        # the ten-province stages repeat dbt and the checks (no Excel: the raw tables are copied)
        ratio = ratios["scale10 / province (dbt + checks)"] = round(
            sum(r["seconds"] for r in ten) / sum(r["seconds"] for r in one), 2
        )
        target(
            f"10 × province dbt + checks ≤ {SCALE10_RATIO:g} × province",
            f"{ratio:.2f} ×",
            ratio <= SCALE10_RATIO,
        )
        peak = max(_peak(r) for r in ten)
        target(
            f"10 × province peak ≤ {TARGET_PEAK_SCALE10_BYTES / GIB:g} GiB",
            f"{peak / GIB:.2f} GiB",
            peak <= TARGET_PEAK_SCALE10_BYTES,
        )
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
        f"{'load 1m':>13}{'others':>8}  measured (UTC)",
    ]
    for name, record in stages.items():
        rows = _rows(record)
        seconds = record["seconds"]
        rate = f"{rows / seconds:,.0f}" if rows and seconds and name not in ("incremental", "queries") else ""
        load = f"{record['load_before'][0]:.1f}→{record['load_after'][0]:.1f}"
        others = f"{record['others_cores']:.2f}" if "others_cores" in record else ""
        failed = "" if record["returncode"] == 0 else f"  FAILED exit {record['returncode']}"
        lines.append(
            f"{name:<14}{seconds:>9.1f}{(f'{rows:,}' if rows is not None else ''):>12}{rate:>10}"
            f"{record['peak_tree_bytes'] / MIB:>10,.0f}{record['peak_process_bytes'] / MIB:>10,.0f}"
            f"{load:>13}{others:>8}  {record.get('measured_at', '')[:16]}{failed}"
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
        lines += ["", "targets (times: ratios to this run's floor):"]
        lines += [f"  {'met ' if t['met'] else 'MISS'}  {t['target']:<45} {t['measured']}" for t in targets]
    lines += ["", "others: cores the rest of the machine kept busy during the stage (0 = quiet)"]
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
    for name in ("make_run", "unchanged", "incremental"):
        result = stages.get(name, {}).get("result", {})
        if result.get("dagster"):
            parsed, seconds = result.get("files_parsed"), result.get("ingest_seconds")
            notes.append(f"{name}: {result['dagster']}; ingest parsed {parsed} files in {seconds} s")
    return notes
