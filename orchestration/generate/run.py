"""Plan the province, run the counties in parallel, write the task allocation and the manifest."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from orchestration.generate.county import CountyResult, CountyTask, run_county, write_plans
from orchestration.generate.defects import KINDS
from orchestration.generate.plan import FilePlan, FormatCycle, SheetPlan, make_style
from orchestration.generate.reference import other_county_codes, poor_county_codes, programmes, regions
from orchestration.generate.scales import PROVINCE_POOR_POPULATION, SCALES, YEAR, Scale
from orchestration.generate.world import CountySpec, apportion
from orchestration.sources import PROGRAMME_CODES, SOURCES

GENERATOR_VERSION = "1.1.0"


# ---------------------------------------------------------------------------------------------
# planning


def choose_counties(scale: Scale, rng: random.Random) -> list[str]:
    poor = poor_county_codes()
    if scale.counties is None:
        return list(poor)
    by_city: dict[str, list[str]] = {}
    for code in poor:
        by_city.setdefault(regions()[code].city_code, []).append(code)
    cities = sorted(c for c, codes in by_city.items() if len(codes) >= 2)
    chosen_cities = rng.sample(cities, scale.cities)
    counties: list[str] = []
    per_city = apportion(scale.counties, [1.0] * len(chosen_cities))
    for city, n in zip(chosen_cities, sorted(per_city, reverse=True), strict=True):
        counties += rng.sample(by_city[city], n)
    return sorted(counties)


def county_specs(scale: Scale, seed: int) -> list[CountySpec]:
    rng = random.Random(f"{seed}:plan")
    codes = choose_counties(scale, rng)
    if scale.people_per_county is None:
        populations = apportion(PROVINCE_POOR_POPULATION, [rng.uniform(0.5, 1.6) for _ in codes])
    else:
        populations = [round(scale.people_per_county * rng.uniform(0.95, 1.05)) for _ in codes]
    progs = programmes()
    allocations: dict[str, list[int]] = {}
    for code in PROGRAMME_CODES:
        task = progs[code].task_2015
        if scale.allocation_exact:
            allocations[code] = apportion(task, [p * rng.uniform(0.85, 1.15) for p in populations])
        else:
            share = task * scale.training_boost / PROVINCE_POOR_POPULATION
            allocations[code] = [max(1, round(p * share)) for p in populations]
    foreign = other_county_codes()
    specs = []
    for i, (code, population) in enumerate(zip(codes, populations, strict=True)):
        region = regions()[code]
        city = regions()[region.city_code]
        specs.append(
            CountySpec(
                index=i,
                code=code,
                name=region.name_zh,
                short_name=region.short_name_zh,
                city_code=city.code,
                city_name=city.name_zh,
                city_short_name=city.short_name_zh,
                population=population,
                allocation={c: allocations[c][i] for c in PROGRAMME_CODES},
                foreign_codes=tuple(rng.sample(foreign, 3)),
            )
        )
    return specs


def allocation_plan(specs: list[CountySpec], seed: int) -> FilePlan:
    """The province's 年度培训任务分解表: one row per county, grouped by city."""
    rng = random.Random(f"{seed}:allocation")
    fmt = FormatCycle(rng.randrange(8), ("xlsx", "xls", "ods")).next()
    style = make_style(rng, "task_allocations", fmt)
    style.subtotals = len(specs) > 1
    name = rng.choice(("2015年精准扶贫劳动力培训任务分解表", "附件2 2015年全省精准扶贫劳动力培训任务分解表"))
    plan = FilePlan(SOURCES["task_allocations"], f"task_allocations/{name}", style)
    unit = f"填报单位：甘肃省人力资源和社会保障厅    填报日期：{YEAR}年6月28日"
    by_city: dict[str, list[CountySpec]] = {}
    for spec in specs:
        by_city.setdefault(spec.city_code, []).append(spec)
    per_city_sheets = plan.is_workbook and len(by_city) > 1 and rng.random() < 0.3
    sheet = None
    for city_code in sorted(by_city):
        if sheet is None or per_city_sheets:
            title = f"{YEAR}年精准扶贫劳动力培训任务分解表"
            sheet_name = by_city[city_code][0].city_name if per_city_sheets else "任务分解"
            sheet = SheetPlan(sheet_name, title, unit)
            plan.sheets.append(sheet)
        for spec in by_city[city_code]:
            row = {
                "year": YEAR,
                "city": spec.city_name if style.city_form == "full" else spec.city_short_name,
                "county": spec.name if style.county_form == "full" else spec.short_name,
            }
            for code in PROGRAMME_CODES:
                row[f"task_{code.lower()}"] = spec.allocation[code]
            sheet.rows.append(row)
    return plan


# ---------------------------------------------------------------------------------------------
# progress on the terminal


class Progress:
    def __init__(self, total_people: int, counties: int, stream=sys.stdout):
        self.total = max(1, total_people)
        self.counties = counties
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.people = self.files = self.rows = self.done = 0

    def update(self, result: CountyResult) -> None:
        self.done += 1
        self.people += result.stats["persons"]
        self.files += len(result.files)
        self.rows += result.stats["rows_written"]
        if self.tty:
            elapsed = time.monotonic() - self.started
            left = elapsed * (self.total - self.people) / max(1, self.people)
            self.stream.write(
                f"\r  counties {self.done}/{self.counties} · files {self.files:,} · rows {self.rows:,} · "
                f"elapsed {_clock(elapsed)} · left ~{_clock(left)}   "
            )
            self.stream.flush()

    def finish(self) -> float:
        if self.tty:
            self.stream.write("\n")
        return time.monotonic() - self.started


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


# ---------------------------------------------------------------------------------------------
# the run


def clear_output(out: Path) -> None:
    """Remove what a previous run wrote (the seven folders and the manifest), nothing else."""
    for source in SOURCES.values():
        shutil.rmtree(out / source.folder, ignore_errors=True)
    (out / "manifest.json").unlink(missing_ok=True)


def generate(scale_name: str, seed: int, out: Path, defects: str = "all", workers: int | None = None,
             stream=sys.stdout) -> dict:  # fmt: skip
    scale = SCALES[scale_name]
    out = Path(out)
    clear_output(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = county_specs(scale, seed)
    counts = {kind: scale.defects_per_county for kind in KINDS} if defects == "all" else {}
    tasks = [CountyTask(spec, scale_name, seed, str(out), counts) for spec in specs]
    # the biggest counties first, so that two workers finish together
    tasks.sort(key=lambda t: -t.spec.population)
    workers = max(1, min(workers or min(2, os.cpu_count() or 1), len(tasks)))
    progress = Progress(sum(s.population for s in specs), len(specs), stream)
    results: list[CountyResult] = []
    if workers == 1:
        for task in tasks:
            results.append(run_county(task))
            progress.update(results[-1])
    else:
        # spawn, not fork: a forked worker of a process with threads (pytest with DuckDB or
        # Dagster loaded) can inherit a queue lock held at fork time and wait on it for ever
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for result in pool.imap_unordered(run_county, tasks):
                results.append(result)
                progress.update(result)
            # let the idle workers end on their own: leaving the block terminates them with
            # SIGTERM, which a process started with SIGTERM ignored (some job runners) never obeys
            pool.close()
            pool.join()
    allocation_files = write_plans(
        [allocation_plan(specs, seed)], out, random.Random(f"{seed}:allocation-layout")
    )
    elapsed = progress.finish()
    manifest = build_manifest(scale_name, seed, defects, specs, results, allocation_files)
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print_summary(manifest, out, elapsed, stream)
    return manifest


def build_manifest(scale_name, seed, defects, specs, results, allocation_files) -> dict:
    order = {s.code: s.index for s in specs}
    results = sorted(results, key=lambda r: order[r.code])
    files = sorted([f for r in results for f in r.files] + allocation_files, key=lambda f: f["path"])
    found = [d for r in results for d in r.defects]
    found.sort(key=lambda d: (d["source_file"] or "", d["sheet"] or "", d["row_number"] or 0, d["kind"]))
    counts = {}
    for source in SOURCES.values():
        mine = [f for f in files if f["source"] == source.name]
        counts[source.name] = {
            "folder": source.folder,
            "files": len(mine),
            "sheets": sum(len(f["sheets"]) for f in mine),
            "rows": sum(f["rows"] for f in mine),
            "formats": dict(sorted(Counter(f["format"] for f in mine).items())),
        }
    by_month = [sum(r.stats["trainee_times_by_month"][m] for r in results) for m in range(12)]
    return {
        "generator": "orchestration.generate",
        "generator_version": GENERATOR_VERSION,
        "scale": scale_name,
        "seed": seed,
        "defect_mode": defects,
        "year": YEAR,
        "world": {
            "counties": len(specs),
            "persons": sum(r.stats["persons"] for r in results),
            "households": sum(r.stats["households"] for r in results),
            "townships": sum(r.stats["townships"] for r in results),
            "villages": sum(r.stats["villages"] for r in results),
            "institutions": sum(r.stats["institutions"] for r in results),
            "courses": sum(r.stats["courses"] for r in results),
            "ledger_rows": sum(r.stats["ledger_rows"] for r in results),
            "trainee_times": sum(by_month),
            "trainee_times_by_month": by_month,
            "trainee_times_to_october": sum(by_month[:10]),
            "allocation": {c: sum(s.allocation[c] for s in specs) for c in PROGRAMME_CODES},
        },
        "counties": [
            {
                "county_code": s.code,
                "county": s.name,
                "city_code": s.city_code,
                "city": s.city_name,
                "population": s.population,
                "allocation": s.allocation,
            }
            for s in specs
        ],
        "counts": counts,
        "defect_counts": dict(sorted(Counter(d["kind"] for d in found).items())),
        "files": files,
        "defects": found,
    }


def print_summary(manifest: dict, out: Path, elapsed: float, stream) -> None:
    size = sum((out / f["path"]).stat().st_size for f in manifest["files"])
    world = manifest["world"]
    print(
        f"generated {manifest['scale']} world (seed {manifest['seed']}, defects {manifest['defect_mode']}) "
        f"into {out} in {elapsed:.1f} s: {len(manifest['files'])} files, {size / 1e6:.1f} MB",
        file=stream,
    )
    print(
        f"  {world['counties']} counties, {world['persons']:,} people, {world['ledger_rows']:,} ledger rows, "
        f"{world['trainee_times']:,} trainee-times ({world['trainee_times_to_october']:,} by October)",
        file=stream,
    )
    for c in manifest["counts"].values():
        formats = ", ".join(f"{k} {v}" for k, v in c["formats"].items())
        print(f"  {c['folder']:<20} {c['files']:>5} files {c['rows']:>10,} rows  ({formats})", file=stream)
    print(f"  defects: {len(manifest['defects'])} ({manifest['defect_counts']})", file=stream)
