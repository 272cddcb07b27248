"""Incremental, idempotent ingest of the raw folder into the warehouse (no Dagster needed).

``ingest_raw`` looks at every file under ``raw/<source folder>/``, compares its SHA-256 with
``audit.file_state`` and only parses new or changed files (in a process pool, both cores).
Each file's change is one transaction: its old rows and quarantine entries out, its new ones
in, its state and a history row written, so a run killed half-way leaves every file either
as before or as after. A file whose content equals another file's is recorded ``duplicate``
and loaded once; a file gone from the folder has its rows removed and is recorded ``deleted``.

Run it alone (the benchmark does): ``python -m orchestration.defs.ingest.pipeline --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import duckdb

from orchestration.defs.ingest.audit import ensure_schema, file_states
from orchestration.defs.ingest.file_types import is_candidate
from orchestration.defs.ingest.headers import contract_fingerprint
from orchestration.defs.ingest.reader import ParsedFile, parse_file
from orchestration.defs.ingest.reasons import reason
from orchestration.resources import Settings
from orchestration.sources import LINEAGE_COLUMNS, SOURCES, Source

# Bump when the reader's output for the same file changes: every file is parsed again.
READER_VERSION = "2"  # 2: 合计 recognised in numeric columns too

logger = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    source: str
    source_file: str
    status: str  # loaded | unchanged | duplicate | failed | deleted
    file_sha256: str | None = None
    size_bytes: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    skipped_by: dict[str, int] | None = None
    sheets_loaded: int = 0
    sheets_rejected: int = 0
    cells_quarantined: int = 0
    error: str | None = None
    duplicate_of: str | None = None
    seconds: float | None = None


@dataclass
class SourceReport:
    source: str
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def files_by_status(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def total(self, attribute: str) -> int:
        return sum(getattr(o, attribute) or 0 for o in self.outcomes)


@dataclass
class IngestReport:
    run_id: str
    started_at: datetime
    seconds: float = 0.0
    sources: dict[str, SourceReport] = field(default_factory=dict)

    @property
    def outcomes(self) -> list[FileOutcome]:
        return [o for report in self.sources.values() for o in report.outcomes]

    files_parsed: int = 0


@dataclass(frozen=True)
class FoundFile:
    source_file: str  # relative to the raw folder, forward slashes
    path: Path
    sha256: str | None  # None: not read (a link out of the raw folder)
    size: int


@dataclass
class Plan:
    source: Source
    version: str
    parse: list[FoundFile] = field(default_factory=list)
    refused: list[tuple[FoundFile, str]] = field(default_factory=list)
    duplicates: list[tuple[FoundFile, str]] = field(default_factory=list)
    unchanged: list[tuple[FoundFile, dict]] = field(default_factory=list)
    deleted: list[dict] = field(default_factory=list)
    states: dict[str, dict] = field(default_factory=dict)  # audit.file_state before this run


def ingest_raw(
    raw_dir: Path | str | None = None,
    warehouse: Path | str | None = None,
    sources: Iterable[str] | None = None,
    *,
    workers: int | None = None,
    run_id: str | None = None,
    log: logging.Logger | None = None,
) -> IngestReport:
    """Bring ``raw.*`` and ``audit.*`` in ``warehouse`` up to date with ``raw_dir``.

    Defaults come from the environment (``Settings.from_env()``); ``sources`` limits the run
    to some of the seven; ``workers`` is the size of the parsing pool (default: CPU count).
    """
    log = log or logger
    settings = Settings.from_env()
    raw_dir = Path(raw_dir or settings.raw_dir)
    warehouse = Path(warehouse or settings.warehouse)
    names = list(sources) if sources is not None else list(SOURCES)
    unknown = set(names) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; known: {sorted(SOURCES)}")
    if not raw_dir.is_dir():
        # never read a missing folder as "every file was deleted"
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist (set TRAINING_RAW_DIR)")
    workers = workers or os.cpu_count() or 1
    report = IngestReport(run_id or uuid.uuid4().hex, datetime.now(UTC))
    started = perf_counter()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    scratch = Path(tempfile.mkdtemp(prefix="ingest-"))
    try:
        ensure_schema(con)
        plans = [_plan(con, raw_dir, SOURCES[name]) for name in names]
        with _Writer(con, report, log) as writer:
            for plan in plans:
                report.sources[plan.source.name] = SourceReport(plan.source.name)
                for state in plan.deleted:
                    writer.deleted(plan, state)
                for found, original in plan.duplicates:
                    writer.duplicate(plan, found, original)
                writer.unchanged(plan)
                for found, message in plan.refused:
                    writer.parsed(plan, found, _refused(plan.source.name, found, message))
            tasks = [(plan, found) for plan in plans for found in plan.parse]
            tasks.sort(key=lambda task: -task[1].size)  # big files first: the pool ends together
            report.files_parsed = len(tasks)
            for (plan, found), parsed in _parse_all(tasks, workers, scratch):
                writer.parsed(plan, found, parsed)
                # one line per file only at debug level: a province run has thousands of files
                log.log(
                    logging.WARNING if parsed.status == "failed" else logging.DEBUG,
                    "ingest %s: %s (%d rows loaded, %d quarantined, %d skipped, %.1fs)%s",
                    parsed.status,
                    found.source_file,
                    parsed.rows_loaded,
                    parsed.rows_quarantined,
                    parsed.rows_skipped,
                    parsed.seconds,
                    f" — {parsed.error}" if parsed.error else "",
                )
                shutil.rmtree(scratch / _task_dir(found), ignore_errors=True)
        report.seconds = perf_counter() - started
        log.info(
            "ingest: %d files (%s) in %.1fs",
            len(report.outcomes),
            ", ".join(
                f"{n} {status}" for status, n in sorted(Counter(o.status for o in report.outcomes).items())
            ),
            report.seconds,
        )
        con.execute(
            "insert into audit.ingest_runs values (?, ?::timestamptz, now(), ?, ?, ?, ?)",
            [
                report.run_id,
                report.started_at.isoformat(),
                names,
                len(report.outcomes),
                len(tasks),
                report.seconds,
            ],
        )
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return report


# --- planning ---------------------------------------------------------------------------------


def candidate_paths(raw_dir: Path, source: Source) -> Iterator[Path]:
    """Every file ingest considers for a source, sorted: the source folder and its sub-folders,
    without hidden folders, Office lock files and OS junk (``file_types.is_candidate``)."""
    for dirpath, dirnames, filenames in os.walk(raw_dir / source.folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if is_candidate(path):
                yield path


def discover(raw_dir: Path, source: Source) -> list[FoundFile]:
    """Every candidate file of a source with its SHA-256 (None for a link out of the raw folder)."""
    root = raw_dir.resolve()
    found = []
    for path in candidate_paths(raw_dir, source):
        relative = path.relative_to(raw_dir).as_posix()
        resolved = path.resolve()
        if not resolved.is_relative_to(root) or not resolved.is_file():
            found.append(FoundFile(relative, path, None, 0))
        else:
            found.append(FoundFile(relative, path, _sha256(path), path.stat().st_size))
    return found


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _plan(con: duckdb.DuckDBPyConnection, raw_dir: Path, source: Source) -> Plan:
    states = file_states(con, source.name)
    plan = Plan(source, f"{READER_VERSION}:{contract_fingerprint(source)}", states=states)
    present = discover(raw_dir, source)
    by_sha: dict[str, list[str]] = defaultdict(list)
    for found in present:
        if found.sha256:
            by_sha[found.sha256].append(found.source_file)

    def owner(sha: str) -> str:
        """Which of the files with this content is loaded: the one already loaded, else the first."""
        names = by_sha[sha]
        loaded = [
            n
            for n in names
            if states.get(n, {}).get("status") == "loaded" and states[n]["file_sha256"] == sha
        ]
        return min(loaded or names)

    for found in present:
        state = states.get(found.source_file)
        same = (
            state is not None
            and state["file_sha256"] == found.sha256
            and state["reader_version"] == plan.version
        )
        if found.sha256 is None:
            if same and state["status"] == "failed":
                plan.unchanged.append((found, state))
            else:
                plan.refused.append((found, reason("outside_raw_dir")))
            continue
        original = owner(found.sha256)
        if original != found.source_file:
            if same and state["status"] == "duplicate" and state["duplicate_of"] == original:
                plan.unchanged.append((found, state))
            else:
                plan.duplicates.append((found, original))
        elif same and state["status"] in ("loaded", "failed"):
            plan.unchanged.append((found, state))
        else:
            plan.parse.append(found)
    present_names = {found.source_file for found in present}
    plan.deleted = [
        s for name, s in sorted(states.items()) if name not in present_names and s["status"] != "deleted"
    ]
    return plan


def _refused(source: str, found: FoundFile, message: str) -> ParsedFile:
    parsed = ParsedFile(source, found.source_file)
    parsed.fail(message)
    return parsed


# --- parsing in a process pool ----------------------------------------------------------------


def _task_dir(found: FoundFile) -> str:
    return hashlib.sha1(found.source_file.encode()).hexdigest()[:16]


def _parse_all(tasks: list, workers: int, scratch: Path) -> Iterator[tuple[tuple, ParsedFile]]:
    """Parse every (plan, file) task, in a pool when there is more than one; yield as they finish.

    A file that kills its worker (a crash inside a native library) is retried alone, so only
    that file fails.
    """

    def args(task):
        plan, found = task
        return found.path, plan.source.name, scratch / _task_dir(found), found.source_file

    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, parse_file(*args(task), threads=max(1, workers))
        return
    crashed = []
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB and threads
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(parse_file, *args(task)): task for task in tasks}
        for future in as_completed(futures):
            try:
                parsed = future.result()
            except BrokenProcessPool:
                crashed.append(futures[future])
                continue
            yield futures[future], parsed
    for task in crashed:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            try:
                parsed = pool.submit(parse_file, *args(task)).result()
            except BrokenProcessPool:
                parsed = _refused(task[0].source.name, task[1], reason("unreadable", detail="读取时程序崩溃"))
        yield task, parsed


# --- writing, one transaction per file --------------------------------------------------------


class _Writer:
    """Writes each file's change; files are grouped into transactions of whole files.

    A file's rows, quarantine entries, state and history row are always in the same
    transaction, so after a crash every file is either as before or as after. Grouping small
    files saves a commit (an fsync) per file; a group ends after BATCH_FILES files,
    BATCH_ROWS rows or BATCH_SECONDS seconds.
    """

    BATCH_FILES = 64
    BATCH_ROWS = 500_000
    BATCH_SECONDS = 10.0

    def __init__(self, con: duckdb.DuckDBPyConnection, report: IngestReport, log: logging.Logger = logger):
        self.con = con
        self.report = report
        self.log = log
        self.at = report.started_at.isoformat()
        self.open_since: float | None = None
        self.files = self.rows = 0

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.open_since is not None:
            if exc_type is None:
                self._commit()
            else:
                self.con.rollback()
                self.open_since = None
        return False

    def _commit(self) -> None:
        self.con.commit()
        self.log.info("ingest committed %d file(s), %d rows", self.files, self.rows)
        self.open_since = None

    def _begin(self) -> None:
        if self.open_since is None:
            self.con.begin()
            self.open_since, self.files, self.rows = perf_counter(), 0, 0

    def _done(self, rows: int = 0) -> None:
        """One file written: commit the group when it is big or old enough."""
        self.files += 1
        self.rows += rows
        if (
            self.files >= self.BATCH_FILES
            or self.rows >= self.BATCH_ROWS
            or perf_counter() - (self.open_since or 0) >= self.BATCH_SECONDS
        ):
            self._commit()

    def _log(self, plan: Plan, outcome: FileOutcome) -> None:
        self.report.sources[plan.source.name].outcomes.append(outcome)
        self.con.execute(
            """insert into audit.ingest_files (
                 run_id, source_file, source, file_sha256, size_bytes, status, duplicate_of,
                 rows_read, rows_loaded, rows_quarantined, rows_skipped, skipped_by, sheets_loaded,
                 sheets_rejected, cells_quarantined, error, parse_seconds, reader_version, ingested_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz)""",
            [
                self.report.run_id,
                outcome.source_file,
                outcome.source,
                outcome.file_sha256,
                outcome.size_bytes,
                outcome.status,
                outcome.duplicate_of,
                outcome.rows_read,
                outcome.rows_loaded,
                outcome.rows_quarantined,
                outcome.rows_skipped,
                json.dumps(outcome.skipped_by, ensure_ascii=False) if outcome.skipped_by else None,
                outcome.sheets_loaded,
                outcome.sheets_rejected,
                outcome.cells_quarantined,
                outcome.error,
                outcome.seconds,
                plan.version,
                self.at,
            ],
        )

    def _set_state(self, plan: Plan, outcome: FileOutcome) -> None:
        self.con.execute("delete from audit.file_state where source_file = ?", [outcome.source_file])
        self.con.execute(
            """insert into audit.file_state (
                 source_file, source, file_sha256, status, duplicate_of, rows_read, rows_loaded,
                 rows_quarantined, rows_skipped, sheets_rejected, error, reader_version, run_id, changed_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz)""",
            [
                outcome.source_file,
                outcome.source,
                outcome.file_sha256,
                outcome.status,
                outcome.duplicate_of,
                outcome.rows_read,
                outcome.rows_loaded,
                outcome.rows_quarantined,
                outcome.rows_skipped,
                outcome.sheets_rejected,
                outcome.error,
                plan.version,
                self.report.run_id,
                self.at,
            ],
        )

    def _retire(self, plan: Plan, source_file: str) -> None:
        """Remove a file's rows and quarantine entries (inside the caller's transaction).

        A file never loaded before has none: skip the scan of the raw table."""
        state = plan.states.get(source_file)
        if state is None:
            return
        if state["rows_loaded"]:
            self.con.execute(f'delete from raw."{plan.source.table}" where source_file = ?', [source_file])
        self.con.execute("delete from audit.quarantine where source_file = ?", [source_file])

    def deleted(self, plan: Plan, state: dict) -> None:
        outcome = FileOutcome(plan.source.name, state["source_file"], "deleted", state["file_sha256"])
        self._begin()
        self._retire(plan, state["source_file"])
        self._set_state(plan, outcome)
        self._log(plan, outcome)
        self._done()

    def duplicate(self, plan: Plan, found: FoundFile, original: str) -> None:
        outcome = FileOutcome(
            plan.source.name,
            found.source_file,
            "duplicate",
            found.sha256,
            found.size,
            duplicate_of=original,
            error=reason("duplicate", original=original),
        )
        self._begin()
        self._retire(plan, found.source_file)
        self._set_state(plan, outcome)
        self._log(plan, outcome)
        self._done()

    def unchanged(self, plan: Plan) -> None:
        for found, state in plan.unchanged:
            self._begin()
            self._log(
                plan,
                FileOutcome(
                    plan.source.name,
                    found.source_file,
                    "unchanged",
                    found.sha256,
                    found.size,
                    rows_read=state["rows_read"],
                    rows_loaded=state["rows_loaded"],
                    rows_quarantined=state["rows_quarantined"],
                    rows_skipped=state["rows_skipped"],
                    sheets_rejected=state["sheets_rejected"],
                    error=state["error"],
                    duplicate_of=state["duplicate_of"],
                ),
            )
            self._done()

    def parsed(self, plan: Plan, found: FoundFile, parsed: ParsedFile) -> None:
        outcome = FileOutcome(
            plan.source.name,
            found.source_file,
            parsed.status,
            found.sha256,
            found.size,
            rows_read=parsed.rows_read,
            rows_loaded=parsed.rows_loaded,
            rows_quarantined=parsed.rows_quarantined,
            rows_skipped=parsed.rows_skipped,
            sheets_loaded=sum(s.status == "loaded" for s in parsed.sheets),
            sheets_rejected=parsed.sheets_rejected,
            error=parsed.error,
            seconds=parsed.seconds,
            cells_quarantined=parsed.cells_quarantined,
            skipped_by={k: v for k, v in parsed.skipped.items() if v} or None,
        )
        table = plan.source.table
        own = ", ".join(f'"{c}"' for c in plan.source.column_names)
        lineage = ", ".join(f'"{c}"' for c in LINEAGE_COLUMNS)
        common = [self.report.run_id, found.source_file, plan.source.name, found.sha256]
        self._begin()
        self._retire(plan, found.source_file)
        if parsed.row_parts:
            self.con.execute(
                f'insert into raw."{table}" ({own}, {lineage}) '
                f"select {own}, ?, sheet, row_number, ?, ?::timestamptz, sheet_title from read_parquet(?)",
                [found.source_file, found.sha256, self.at, parsed.row_parts],
            )
        if parsed.quarantine_parts:
            self.con.execute(
                "insert into audit.quarantine select ?, ?, ?, ?, sheet, row_number, column_name, raw_value, "
                "reason, reason_code, ?::timestamptz from read_parquet(?)",
                [*common, self.at, parsed.quarantine_parts],
            )
        if parsed.notes:
            self.con.executemany(
                "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz)",
                [
                    [
                        *common,
                        n.sheet,
                        n.row_number,
                        n.column_name,
                        n.raw_value,
                        n.reason,
                        n.reason_code,
                        self.at,
                    ]
                    for n in parsed.notes
                ],
            )
        self._set_state(plan, outcome)
        self._log(plan, outcome)
        self._done(parsed.rows_loaded)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Ingest the raw folder into the warehouse.")
    parser.add_argument("--raw", type=Path, help="raw folder (default TRAINING_RAW_DIR)")
    parser.add_argument("--warehouse", type=Path, help="DuckDB file (default TRAINING_WAREHOUSE)")
    parser.add_argument("--source", action="append", choices=sorted(SOURCES), help="only these sources")
    parser.add_argument("--workers", type=int, help="parsing processes (default: CPU count)")
    parser.add_argument(
        "--batch-files", type=int, help=f"files per transaction (default {_Writer.BATCH_FILES})"
    )
    args = parser.parse_args(argv)
    if args.batch_files:
        _Writer.BATCH_FILES = args.batch_files
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    report = ingest_raw(args.raw, args.warehouse, args.source, workers=args.workers)
    for name, source_report in report.sources.items():
        totals = {key: source_report.total(f"rows_{key}") for key in ("loaded", "quarantined", "skipped")}
        print(
            f"{name:20s} files {source_report.files_by_status}  rows loaded {totals['loaded']}"
            f"  quarantined {totals['quarantined']}  skipped {totals['skipped']}"
        )
    files = len(report.outcomes)
    print(f"run {report.run_id}: {files} files, {report.files_parsed} parsed, {report.seconds:.1f}s")


if __name__ == "__main__":
    main()
