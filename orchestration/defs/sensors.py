"""The raw-folder sensor: a file added, changed or removed under the raw folder starts a refresh.

Cheap by design: it lists the source folders and compares (path, size, mtime) of every file
with the previous tick's digest, one digest per source folder, without reading a byte of any
file. The run it requests ingests only the files whose content changed (ingest compares SHA-256
with audit.ingest_files) and rebuilds only what depends on the sources whose folder changed (the
first tick, with no digest to compare, requests the whole full_refresh).
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import full_refresh
from orchestration.lib.ingest.file_types import is_candidate
from orchestration.resources import PathsResource
from orchestration.sources import SOURCE_BY_FOLDER


def raw_listing(raw_dir: Path) -> list[tuple[str, int, int]]:
    """(path relative to raw_dir, size, mtime in ns) of every file ingest would read, sorted."""
    listing = []
    for folder in sorted(SOURCE_BY_FOLDER):
        root = raw_dir / folder
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            relative = path.relative_to(raw_dir)
            if any(part.startswith(".") for part in relative.parts) or not is_candidate(path):
                continue
            if path.is_file():
                stat = path.stat()
                listing.append((relative.as_posix(), stat.st_size, stat.st_mtime_ns))
    return sorted(listing)


def folder_digests(listing: list[tuple[str, int, int]]) -> dict[str, str]:
    """Source folder → digest of its part of the listing (a folder without files is absent)."""
    by_folder: dict[str, list[tuple[str, int, int]]] = {}
    for entry in listing:
        by_folder.setdefault(entry[0].split("/", 1)[0], []).append(entry)
    return {folder: listing_digest(entries) for folder, entries in sorted(by_folder.items())}


def changed_sources(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    folders = {f for f in set(previous) | set(current) if previous.get(f) != current.get(f)}
    return sorted(SOURCE_BY_FOLDER[f].name for f in folders)


def rebuild_request(graph, sources: list[str], tags: dict[str, str]) -> dg.RunRequest:
    """The changed raw assets, everything downstream of them, and all their checks."""
    selection = dg.AssetSelection.assets(*[dg.AssetKey(["raw", name]) for name in sources]).downstream()
    return dg.RunRequest(
        tags=tags,
        asset_selection=sorted(selection.resolve(graph)),
        asset_check_keys=sorted(selection.resolve_checks(graph)),
    )


def listing_digest(listing: list[tuple[str, int, int]]) -> str:
    lines = "".join(f"{path}\0{size}\0{mtime}\n" for path, size, mtime in listing)
    # surrogateescape: a file name that is not UTF-8 (GBK) hashes by its exact bytes, not crash
    return hashlib.sha256(lines.encode("utf-8", "surrogateescape")).hexdigest()


@dg.sensor(
    name="raw_folder_sensor",
    target=full_refresh,
    minimum_interval_seconds=30,
    description="Watches the raw folder (TRAINING_RAW_DIR): a file added, changed or removed in "
    "a source folder requests one full_refresh run of that source's raw asset and everything "
    "downstream of it (unchanged files are not re-read, other sources' models not rebuilt).",
)
def raw_folder_sensor(context: dg.SensorEvaluationContext, paths: PathsResource) -> dg.SensorResult:
    raw_dir = paths.raw_path
    if not raw_dir.is_dir():
        return dg.SensorResult(skip_reason=f"raw folder {raw_dir} does not exist")
    listing = raw_listing(raw_dir)
    digest = listing_digest(listing)
    previous = json.loads(context.cursor) if context.cursor else None
    if previous and previous["digest"] == digest:
        return dg.SensorResult(skip_reason=f"no file added, changed or removed under {raw_dir}")
    folders = folder_digests(listing)
    cursor = json.dumps({"digest": digest, "files": len(listing), "folders": folders})
    tags = {"training/trigger": "raw_folder_sensor", "training/raw_files": str(len(listing))}
    # No partition: the report assets write the reports of every month with data. (A partition
    # range would plan every unpartitioned asset once per month: 72 × 71 events, minutes of SQLite.)
    # No run_key: the cursor already makes each change count once, and a folder that returns
    # to an earlier state (a file removed, then put back) must trigger again.
    if not previous or "folders" not in previous:
        return dg.SensorResult(run_requests=[dg.RunRequest(tags=tags)], cursor=cursor)
    sources = changed_sources(previous["folders"], folders)
    tags["training/changed_sources"] = ",".join(sources)
    request = rebuild_request(context.repository_def.asset_graph, sources, tags)
    return dg.SensorResult(run_requests=[request], cursor=cursor)
