"""The benchmark's raw world: generated once, cached outside git, copied by hard links per run.

The cache is keyed by generator version, seed and scale, so a new generator makes a new
world instead of timing the old one: ``<cache>/<version>-<seed>-<scale>/``. A world is only
used once its ``manifest.json`` exists (the generator writes it last) and the folder has been
renamed from ``….partial`` (an interrupted generation never passes for a finished one).

Each bench run works on a hard-linked copy of the world (no bytes copied), so the file that
the incremental-month stage adds never reaches the cache. Hard links, not symbolic links:
ingest refuses a link that resolves outside its raw folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from orchestration.generate.run import GENERATOR_VERSION
from orchestration.sources import SOURCES

DEFAULT_CACHE = Path.home() / ".cache" / "gansu-training-bench"
LEDGER_FOLDER = SOURCES["training_records"].folder


def cache_dir() -> Path:
    return Path(os.environ.get("BENCH_CACHE_DIR") or DEFAULT_CACHE)


def world_dir(scale: str, seed: int) -> Path:
    return cache_dir() / f"{GENERATOR_VERSION}-{seed}-{scale}"


def link_copy(world: Path, raw_dir: Path) -> None:
    """A fresh copy of the world's source folders at ``raw_dir``, by hard links when possible."""
    shutil.rmtree(raw_dir, ignore_errors=True)
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(world, raw_dir, copy_function=os.link)
    except OSError:  # another file system: copy the bytes
        shutil.rmtree(raw_dir, ignore_errors=True)
        shutil.copytree(world, raw_dir)


def manifest(world: Path) -> dict:
    return json.loads((world / "manifest.json").read_text(encoding="utf-8"))


# --- the incremental month: one more county ledger --------------------------------------------


def pick_ledger(world: Path) -> dict:
    """The median-sized county training ledger of the world (manifest entry)."""
    ledgers = sorted(
        (f for f in manifest(world)["files"] if f["source"] == "training_records" and f["rows"] > 0),
        key=lambda f: (f["rows"], f["path"]),
    )
    return ledgers[len(ledgers) // 2]


def write_next_month_ledger(world: Path, raw_dir: Path, scratch: Path) -> tuple[Path, int]:
    """Write a new county ledger into ``raw_dir``: the rows of a median county ledger, parsed
    the way ingest parses them, with course dates one month later, as a fresh .xlsx.

    Returns the new file's path and its data rows.
    """
    import duckdb
    import xlsxwriter

    from orchestration.lib.ingest.reader import parse_file

    entry = pick_ledger(world)
    source = SOURCES["training_records"]
    parsed = parse_file(world / entry["path"], source.name, scratch, entry["path"])
    if not parsed.row_parts:
        raise RuntimeError(f"{entry['path']}: no rows parsed ({parsed.error})")
    con = duckdb.connect()
    names = [c.name for c in source.all_columns]
    shifted = {
        # one month later, but still in 2015: the year's targets are the ones being tracked
        name: f"strftime(least(try_cast({name} as date) + interval 1 month, date '2015-12-31'), '%Y-%m-%d')"
        for name in ("start_date", "end_date")
    }
    select = ", ".join(f"coalesce({shifted.get(n, n)}, {n}) as {n}" for n in names)
    rows = con.execute(
        f"select {select} from read_parquet(?) order by row_number", [parsed.row_parts]
    ).fetchall()
    con.close()
    stem = Path(entry["path"]).stem
    path = raw_dir / LEDGER_FOLDER / f"{stem}_{dt.date(2015, 12, 1):%Y年%m月}补报.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("培训台账")
    sheet.write_row(0, 0, [c.header for c in source.all_columns])
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, ["" if v is None else v for v in row])
    workbook.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return path, len(rows)
