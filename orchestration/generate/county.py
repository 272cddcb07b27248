"""One county, start to finish: world, sheet rows, defects, proof, files. Runs in a worker process."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.generate import oracle
from orchestration.generate.defects import Injector
from orchestration.generate.layout import layout_sheet
from orchestration.generate.plan import EXTENSION, FilePlan, FormatCycle
from orchestration.generate.rows import (
    ledger_rows_of,
    plan_households,
    plan_ledger,
    plan_reports,
    plan_roster,
    plan_villages,
    plan_war_maps,
)
from orchestration.generate.scales import SCALES
from orchestration.generate.world import CountySpec, build_county
from orchestration.generate.writers import write_file

# Where each source starts in the format cycle, so that counties spread their files over formats.
CYCLE_OFFSETS = {
    "household_members": 0,
    "training_records": 1,
    "institutions": 5,
    "village_statistics": 3,
    "war_map_targets": 1,
    "progress_reports": 4,
    "task_allocations": 0,
}


@dataclass
class CountyTask:
    spec: CountySpec
    scale: str
    seed: int
    out_dir: str
    defect_counts: dict[str, int]


@dataclass
class CountyResult:
    code: str
    files: list[dict] = field(default_factory=list)
    defects: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


class InjectionError(RuntimeError):
    pass


def write_plans(plans: list[FilePlan], out_dir: Path, rng: random.Random) -> list[dict]:
    """Lay out and write files; returns one manifest entry per file."""
    entries = []
    for plan in plans:
        plan.path = plan.path + EXTENSION[plan.fmt]
        grids = []
        for sheet in plan.sheets:
            grids.extend(layout_sheet(plan, sheet, rng))
        write_file(out_dir / plan.path, plan.fmt, grids)
        entries.append(
            {
                "path": plan.path,
                "source": plan.source.name,
                "format": plan.fmt,
                "sheets": [
                    {"name": "" if plan.style.is_csv else g.name, "data_rows": g.data_rows} for g in grids
                ],
                "rows": sum(g.data_rows for g in grids),
            }
        )
    return entries


def located(record: dict, row: dict, plan: FilePlan) -> dict:
    entry = {
        "kind": record["kind"],
        "source": record["source"],
        "source_file": plan.path,
        "sheet": row.get("_sheet", ""),
        "row_number": row.get("_row"),
        "entity": record["entity"],
        "detail": record["detail"],
    }
    if "true_person" in record:  # broken IDs: who the row really is (None: nobody registered)
        entry["true_person"] = record["true_person"]
    return entry


def run_county(task: CountyTask) -> CountyResult:
    spec, scale = task.spec, SCALES[task.scale]
    world = build_county(spec, scale, task.seed)
    rng_files = random.Random(f"{task.seed}:{spec.code}:files")
    rng_defects = random.Random(f"{task.seed}:{spec.code}:defects")
    rng_layout = random.Random(f"{task.seed}:{spec.code}:layout")
    cycles = {name: FormatCycle(spec.index + offset) for name, offset in CYCLE_OFFSETS.items()}

    files: dict[str, list[FilePlan]] = {
        "household_members": plan_households(world, rng_files, cycles["household_members"]),
        "training_records": plan_ledger(world, rng_files, cycles["training_records"]),
        "institutions": plan_roster(world, rng_files, cycles["institutions"]),
    }
    rng_strangers = random.Random(f"{task.seed}:{spec.code}:strangers")
    injector = Injector(world, rng_defects, task.defect_counts, files, rng_strangers)
    injector.inject_base()
    household_rows = ledger_rows_of(files["household_members"])
    ledger_rows = ledger_rows_of(files["training_records"])
    files["village_statistics"] = plan_villages(
        world, rng_files, cycles["village_statistics"], household_rows, ledger_rows
    )
    files["war_map_targets"] = plan_war_maps(
        world, rng_files, cycles["war_map_targets"], household_rows, ledger_rows
    )
    files["progress_reports"] = plan_reports(world, rng_files, cycles["progress_reports"], ledger_rows)
    injector.inject_aggregates()

    # prove that every injection fires its check, and find anything that fires besides
    findings = oracle.check_county(world, files)
    injected = {(r["kind"], tuple(sorted(r["entity"].items()))) for r in injector.records}
    missing = injected - findings.keys()
    if missing:
        raise InjectionError(f"{spec.code}: injected defects no check finds: {sorted(missing)}")
    extra = findings.keys() - injected

    result = CountyResult(spec.code)
    for source in ("institutions", "household_members", "village_statistics", "training_records",
                   "war_map_targets", "progress_reports"):  # fmt: skip
        result.files += write_plans(files[source], Path(task.out_dir), rng_layout)

    plan_of_row = {id(r): p for ps in files.values() for p in ps for s in p.sheets for r in s.rows}
    for record in injector.records:
        row = record["_row_ref"]
        result.defects.append(located(record, row, plan_of_row[id(row)]))
    for kind, entity in sorted(extra):
        rows = [r for r in findings.items[(kind, entity)] if r is not None]
        first = rows[0] if rows else None
        plan = plan_of_row.get(id(first)) if first else None
        result.defects.append(
            {
                "kind": kind,
                "source": plan.source.name if plan else "",
                "source_file": plan.path if plan else None,
                "sheet": first.get("_sheet", "") if first else None,
                "row_number": first.get("_row") if first else None,
                "entity": dict(entity),
                "detail": "side effect of another injection",
                "side_effect": True,
            }
        )
    if extra and not task.defect_counts:
        raise InjectionError(f"{spec.code}: checks fire on the clean world: {sorted(extra)}")

    counted = {}
    for r in ledger_rows:
        key = (oracle.normalise_id(r["id_number"]), r["_programme"])
        if key not in counted or r["start_date"] < counted[key]:
            counted[key] = r["start_date"]
    by_month = [0] * 12
    for start in counted.values():
        by_month[start.month - 1] += 1
    result.stats = {
        "persons": len(world.persons),
        "households": sum(len(v.households) for t in world.townships for v in t.villages),
        "townships": len(world.townships),
        "villages": sum(len(t.villages) for t in world.townships),
        "institutions": len(world.institutions),
        "courses": len(world.courses),
        "ledger_rows": len(ledger_rows),
        "trainee_times_by_month": by_month,
        "rows_written": sum(f["rows"] for f in result.files),
    }
    return result
