"""Incremental, idempotent ingest of the raw folder into the warehouse (no Dagster needed).

``ingest_raw`` looks at every file under ``raw/<source folder>/``, compares its SHA-256 with
``audit.file_state`` and only parses new or changed files (in a process pool, both cores).
Each file's change is one transaction: its old rows and quarantine entries out, its new ones
in, its state and a history row written, so a run killed half-way leaves every file either
as before or as after. A file whose content equals another file's is recorded ``duplicate``
and loaded once; a file gone from the folder has its rows removed and is recorded ``deleted``.

Run it alone (the benchmark does): ``python -m orchestration.lib.ingest.pipeline --help``.
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
import numpy as np

from orchestration.lib.ingest.audit import ensure_schema, file_states
from orchestration.lib.ingest.file_types import is_candidate
from orchestration.lib.ingest.headers import contract_fingerprint
from orchestration.lib.ingest.reader import FileTask, ParsedFile, parse_files
from orchestration.lib.ingest.reasons import reason
from orchestration.settings import Settings
from orchestration.sources import LINEAGE_COLUMNS, SOURCES, Source

# Bump when the reader's output for the same file changes: every file is parsed again.
# 2: 合计 recognised in numeric columns too; 3: a repeated header row is recognised however its
# cells are spaced or cased (it was missed when the header text never occurred unspaced in its
# column; the check was a substring test, now it is the SQL's own comparison); 4: hidden sheets
# with a header are no longer loaded (hidden_sheet), formula errors in .xls and .ods are recorded
READER_VERSION = "4"

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
    source_file_bytes: str | None = None  # escaped exact bytes of a name that is not UTF-8


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
    source_file: str  # relative to the raw folder, forward slashes (display name, valid UTF-8)
    path: Path
    sha256: str | None  # None: not read (a link out of the raw folder)
    size: int
    source_file_bytes: str | None = None  # the exact name bytes, escaped, when not UTF-8


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
    # one thread: the workers have the cores, and a single-threaded insert writes each row group
    # once (a parallel one writes several and compresses them again when merging: twice the CPU)
    con = duckdb.connect(str(warehouse), config={"threads": 1})
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
            report.files_parsed = len(tasks)
            # announced before parsing: `make run` shows the ingest's progress as n of this many
            log.info("ingest: %d files to parse", len(tasks))
            for folder, results in _parse_all(tasks, workers, scratch):
                for (plan, found), parsed in results:
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
                        f" — {safe_text(parsed.error)}" if parsed.error else "",
                    )
                writer.release(folder)
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


def files_to_ingest(raw_dir: Path, warehouse: Path) -> int | None:
    """How many files an ingest now would read, refuse, mark duplicate or deleted, by the same
    plan as ``ingest_raw``, without writing anything; None when it cannot tell (no warehouse or
    no ingest state yet, or no raw folder: the ingest itself then says what is wrong)."""
    if not raw_dir.is_dir() or not warehouse.is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (has_state,) = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'file_state'"
        ).fetchone()
        if not has_state:
            return None
        plans = [_plan(con, raw_dir, source) for source in SOURCES.values()]
    return sum(len(p.parse) + len(p.refused) + len(p.duplicates) + len(p.deleted) for p in plans)


# --- planning ---------------------------------------------------------------------------------


def candidate_paths(raw_dir: Path, source: Source) -> Iterator[Path]:
    """Every file ingest considers for a source, sorted: the source folder and its sub-folders,
    without hidden folders, Office lock files and OS junk (``file_types.is_candidate``).

    Linked folders are walked too (a user sees their files in the folder, so each must get an
    audit row); ``discover`` refuses the files that resolve outside the raw folder. A linked
    folder whose target was already walked (a link loop) is not walked again."""
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(raw_dir / source.folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen and os.path.islink(dirpath):
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if is_candidate(path):
                yield path


def display_name(relative: str) -> tuple[str, str | None]:
    """(name to store, escaped exact bytes or None). A name that is not UTF-8 arrives from the
    OS as a str with surrogate escapes, which DuckDB, JSON and logs cannot take: offices on
    Chinese Windows write GBK names, so it is shown decoded as GB18030 (errors replaced) and its
    exact bytes are kept escaped (``\\xbf\\xb5…``) beside it."""
    raw = os.fsencode(relative)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("gb18030", "replace"), raw.decode("ascii", "backslashreplace")


def discover(raw_dir: Path, source: Source) -> list[FoundFile]:
    """Every candidate file of a source with its SHA-256 (None for a link out of the raw folder)."""
    root = raw_dir.resolve()
    paths = list(candidate_paths(raw_dir, source))
    names = [display_name(path.relative_to(raw_dir).as_posix()) for path in paths]
    taken = {name for name, escaped in names if escaped is None}
    found = []
    for path, (name, escaped) in zip(paths, names, strict=True):
        if escaped is not None:
            # the same name saved in two encodings, or two names decoding alike: keep keys apart
            if name in taken:
                name = f"{name} [{escaped}]"
            taken.add(name)
        resolved = path.resolve()
        if not resolved.is_relative_to(root) or not resolved.is_file():
            found.append(FoundFile(name, path, None, 0, escaped))
        else:
            found.append(FoundFile(name, path, _sha256(path), path.stat().st_size, escaped))
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


# Files under GROUP_BYTES are parsed in groups of one source, up to GROUP_BYTES and GROUP_FILES
# a group: they share their DuckDB passes (planning one costs milliseconds; most files of a
# province are a few dozen rows).
GROUP_BYTES = 2_000_000
GROUP_FILES = 64

Task = tuple[Plan, FoundFile]


def _groups(tasks: list[Task]) -> list[list[Task]]:
    """Big files alone, small ones grouped by source; big files first, so the pool ends together."""
    groups: list[list[Task]] = []
    open_groups: dict[str, tuple[list[Task], list[int]]] = {}  # source → (group, [bytes])
    for task in sorted(tasks, key=lambda task: -task[1].size):
        plan, found = task
        if found.size >= GROUP_BYTES:
            groups.append([task])
            continue
        group, size = open_groups.get(plan.source.name) or ([], [0])
        if not group:
            groups.append(group)
            open_groups[plan.source.name] = (group, size)
        group.append(task)
        size[0] += found.size
        if size[0] >= GROUP_BYTES or len(group) >= GROUP_FILES:
            del open_groups[plan.source.name]
    return groups


def _file_tasks(group: list[Task]) -> list[FileTask]:
    return [FileTask(found.path, plan.source.name, found.source_file) for plan, found in group]


def _parse_all(
    tasks: list[Task], workers: int, scratch: Path
) -> Iterator[tuple[Path, list[tuple[Task, ParsedFile]]]]:
    """Parse every (plan, file) task in groups, in a pool when there is more than one group;
    yield each group's folder of parts and results as they finish.

    A group that kills its worker (a crash inside a native library) is retried file by file,
    so only the file that crashes fails.
    """
    groups = _groups(tasks)
    folders = [scratch / f"group-{i:05d}" for i in range(len(groups))]
    if workers <= 1 or len(groups) <= 1:
        for group, folder in zip(groups, folders, strict=True):
            try:
                parsed = parse_files(_file_tasks(group), folder, threads=max(1, workers))
            except Exception as error:  # a bug one file triggers must not fail its group or the run
                logger.warning(
                    "ingest: a group of %d files failed (%r); parsing them one by one", len(group), error
                )
                yield from _one_by_one(group, scratch, folder.name, max(1, workers))
                continue
            yield folder, list(zip(group, parsed, strict=True))
        return
    crashed: list[Task] = []
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB and threads
    with ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=context) as pool:
        futures = {
            pool.submit(parse_files, _file_tasks(group), folder): (group, folder)
            for group, folder in zip(groups, folders, strict=True)
        }
        for future in as_completed(futures):
            group, folder = futures[future]
            try:
                parsed = future.result()
            except BrokenProcessPool:
                crashed += group
                continue
            except Exception as error:  # raised by parse_files: find the file, fail it alone
                logger.warning(
                    "ingest: a group of %d files failed (%r); parsing them one by one", len(group), error
                )
                yield from _one_by_one(group, scratch, folder.name, 1)
                continue
            yield folder, list(zip(group, parsed, strict=True))
    for i, task in enumerate(crashed):
        folder = scratch / f"alone-{i:05d}"
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            try:
                parsed = pool.submit(parse_files, _file_tasks([task]), folder).result()[0]
            except BrokenProcessPool:
                parsed = _refused(task[0].source.name, task[1], reason("unreadable", detail="读取时程序崩溃"))
        yield folder, [(task, parsed)]


def _one_by_one(
    group: list[Task], scratch: Path, prefix: str, threads: int
) -> Iterator[tuple[Path, list[tuple[Task, ParsedFile]]]]:
    """Parse a group's files one at a time (in this process): only a file that still raises fails."""
    for i, task in enumerate(group):
        folder = scratch / f"{prefix}-alone-{i:05d}"
        try:
            parsed = parse_files(_file_tasks([task]), folder, threads=threads)[0]
        except Exception as error:
            detail = f"读取“{task[1].source_file}”时程序出错：{type(error).__name__}: {error}"
            parsed = _refused(
                task[0].source.name, task[1], reason("unreadable", detail=safe_text(detail)[:300])
            )
        yield folder, [(task, parsed)]


def safe_text(text: str | None) -> str | None:
    """Text DuckDB, JSON and logs accept: lone surrogates (from a non-UTF-8 file name quoted in
    an error message) are decoded as GB18030 like the name itself."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("gb18030", "replace")


# --- writing, one transaction per group of files ---------------------------------------------

# Column types of the audit tables the writer fills in bulk (rows arrive as Python values).
LOG_COLUMNS = {
    "run_id": "varchar",
    "source_file": "varchar",
    "source_file_bytes": "varchar",
    "source": "varchar",
    "file_sha256": "varchar",
    "size_bytes": "bigint",
    "status": "varchar",
    "duplicate_of": "varchar",
    "rows_read": "bigint",
    "rows_loaded": "bigint",
    "rows_quarantined": "bigint",
    "rows_skipped": "bigint",
    "skipped_by": "varchar",
    "sheets_loaded": "integer",
    "sheets_rejected": "integer",
    "cells_quarantined": "bigint",
    "error": "varchar",
    "parse_seconds": "double",
    "reader_version": "varchar",
    "ingested_at": "timestamptz",
}
STATE_COLUMNS = {
    "source_file": "varchar",
    "source_file_bytes": "varchar",
    "source": "varchar",
    "file_sha256": "varchar",
    "status": "varchar",
    "duplicate_of": "varchar",
    "rows_read": "bigint",
    "rows_loaded": "bigint",
    "rows_quarantined": "bigint",
    "rows_skipped": "bigint",
    "sheets_rejected": "integer",
    "error": "varchar",
    "reader_version": "varchar",
    "run_id": "varchar",
    "changed_at": "timestamptz",
}
NOTE_COLUMNS = {
    "run_id": "varchar",
    "source_file": "varchar",
    "source": "varchar",
    "file_sha256": "varchar",
    "sheet": "varchar",
    "row_number": "integer",
    "column_name": "varchar",
    "raw_value": "varchar",
    "reason": "varchar",
    "reason_code": "varchar",
    "ingested_at": "timestamptz",
}


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list) -> None:
    """Insert many rows in one statement (a statement per row costs ~1 ms each, a warm run has
    thousands): the columns go to DuckDB as arrays of text and are cast to their types."""
    if not rows:
        return
    arrays = {f"c{i}": np.asarray(values, dtype=object) for i, values in enumerate(zip(*rows, strict=True))}
    select = ", ".join(f"cast(c{i} as {kind})" for i, kind in enumerate(columns.values()))
    con.register("_batch", arrays)
    try:
        con.execute(f"insert into {table} ({', '.join(columns)}) select {select} from _batch")
    finally:
        con.unregister("_batch")


@dataclass
class _Pending:
    """What the open transaction still has to write, in one statement per table when it commits."""

    # ("rows" | "quarantine", source name) → (Parquet part, source_file, file_sha256)
    parts: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=dict)
    notes: list[tuple] = field(default_factory=list)
    states: list[tuple] = field(default_factory=list)
    log: list[tuple] = field(default_factory=list)
    scratch: list[Path] = field(default_factory=list)  # parts' folders, removed once committed


class _Writer:
    """Writes each file's change; files are grouped into transactions of whole files.

    A file's rows, quarantine entries, state and history row are always in the same
    transaction, so after a crash every file is either as before or as after. Grouping small
    files saves a commit (an fsync) per file, and the group's rows, entries, states and history
    are each written with one statement when it commits; a group ends after BATCH_FILES files,
    BATCH_ROWS rows or BATCH_SECONDS seconds.
    """

    # Each transaction leaves a partial row group behind, which DuckDB writes through the WAL and
    # compresses again when a checkpoint merges it: at province scale, groups of 64 files / 10 s
    # cost the writer a third more CPU than these.
    BATCH_FILES = 1000
    BATCH_ROWS = 1_000_000
    BATCH_SECONDS = 30.0

    def __init__(self, con: duckdb.DuckDBPyConnection, report: IngestReport, log: logging.Logger = logger):
        self.con = con
        self.report = report
        self.log = log
        self.at = report.started_at.isoformat()
        self.open_since: float | None = None
        self.files = self.rows = 0
        self.pending = _Pending()
        # the bulk inserts register arrays of Python values: no type sniffing, they are cast
        con.execute("set pandas_analyze_sample = 0")

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.open_since is not None:
            if exc_type is None:
                self._commit()
            else:
                self.con.rollback()
                self.open_since = None
        self._remove_scratch()
        return False

    def _commit(self) -> None:
        self._flush()
        self.con.commit()
        self.log.info("ingest committed %d file(s), %d rows", self.files, self.rows)
        self.open_since = None
        self._remove_scratch()

    def release(self, folder: Path) -> None:
        """``folder``'s parts are no longer needed once the files handed over are committed."""
        if self.open_since is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            self.pending.scratch.append(folder)

    def _remove_scratch(self) -> None:
        for folder in self.pending.scratch:
            shutil.rmtree(folder, ignore_errors=True)
        self.pending = _Pending()

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

    def _flush(self) -> None:
        """Write what the group's files left pending: one statement per table."""
        pending, con = self.pending, self.con
        for (kind, name), parts in pending.parts.items():
            paths = list(dict.fromkeys(path for path, _, _ in parts))  # files of a group share parts
            lineage = {
                "part": np.asarray([path for path, _, _ in parts], dtype=object),
                "source_file": np.asarray([source_file for _, source_file, _ in parts], dtype=object),
                "file_sha256": np.asarray([sha for _, _, sha in parts], dtype=object),
            }
            con.register("_parts", lineage)
            try:
                if kind == "rows":
                    source = SOURCES[name]
                    own = ", ".join(f'"{c}"' for c in source.column_names)
                    lineage_names = ", ".join(f'"{c}"' for c in LINEAGE_COLUMNS)
                    con.execute(
                        f'insert into raw."{source.table}" ({own}, {lineage_names}) '
                        f"select {own}, p.source_file, sheet, row_number, p.file_sha256, ?::timestamptz, "
                        "sheet_title from read_parquet(?, filename = true) as r "
                        "join _parts as p on r.filename = p.part and r.source_file = p.source_file",
                        [self.at, paths],
                    )
                else:
                    con.execute(
                        "insert into audit.quarantine select ?, p.source_file, ?, p.file_sha256, sheet, "
                        "row_number, column_name, raw_value, reason, reason_code, ?::timestamptz "
                        "from read_parquet(?, filename = true) as q "
                        "join _parts as p on q.filename = p.part and q.source_file = p.source_file",
                        [self.report.run_id, name, self.at, paths],
                    )
            finally:
                con.unregister("_parts")
        insert_rows(con, "audit.quarantine", NOTE_COLUMNS, pending.notes)
        if pending.states:
            con.execute(
                "delete from audit.file_state where source_file in (select unnest(?))",
                [[state[0] for state in pending.states]],
            )
        insert_rows(con, "audit.file_state", STATE_COLUMNS, pending.states)
        insert_rows(con, "audit.ingest_files", LOG_COLUMNS, pending.log)
        scratch = pending.scratch
        self.pending = _Pending(scratch=scratch)

    def _log(self, plan: Plan, outcome: FileOutcome) -> None:
        self.report.sources[plan.source.name].outcomes.append(outcome)
        self.pending.log.append(
            (
                self.report.run_id,
                outcome.source_file,
                outcome.source_file_bytes,
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
                safe_text(outcome.error),
                outcome.seconds,
                plan.version,
                self.at,
            )
        )

    def _set_state(self, plan: Plan, outcome: FileOutcome) -> None:
        self.pending.states.append(
            (
                outcome.source_file,
                outcome.source_file_bytes,
                outcome.source,
                outcome.file_sha256,
                outcome.status,
                outcome.duplicate_of,
                outcome.rows_read,
                outcome.rows_loaded,
                outcome.rows_quarantined,
                outcome.rows_skipped,
                outcome.sheets_rejected,
                safe_text(outcome.error),
                plan.version,
                self.report.run_id,
                self.at,
            )
        )

    def _retire(self, plan: Plan, source_file: str) -> None:
        """Remove a file's rows and quarantine entries (inside the caller's transaction, before
        its new ones, which wait for the commit). A file never loaded before has none: skip the
        scan of the raw table."""
        state = plan.states.get(source_file)
        if state is None:
            return
        if state["rows_loaded"]:
            self.con.execute(f'delete from raw."{plan.source.table}" where source_file = ?', [source_file])
        self.con.execute("delete from audit.quarantine where source_file = ?", [source_file])

    def deleted(self, plan: Plan, state: dict) -> None:
        outcome = FileOutcome(
            plan.source.name,
            state["source_file"],
            "deleted",
            state["file_sha256"],
            source_file_bytes=state["source_file_bytes"],
        )
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
            source_file_bytes=found.source_file_bytes,
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
                    source_file_bytes=found.source_file_bytes,
                ),
            )
            self._done()

    def parsed(self, plan: Plan, found: FoundFile, parsed: ParsedFile) -> None:
        """Write a parsed file (its parts stay until ``release``)."""
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
            source_file_bytes=found.source_file_bytes,
        )
        name = plan.source.name
        self._begin()
        self._retire(plan, found.source_file)
        for kind, paths in (("rows", parsed.row_parts), ("quarantine", parsed.quarantine_parts)):
            if paths:
                parts = self.pending.parts.setdefault((kind, name), [])
                parts += [(path, found.source_file, found.sha256) for path in paths]
        self.pending.notes += [
            (
                self.report.run_id,
                found.source_file,
                name,
                found.sha256,
                n.sheet,
                n.row_number,
                n.column_name,
                n.raw_value,
                n.reason,
                n.reason_code,
                self.at,
            )
            for n in parsed.notes
        ]
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
