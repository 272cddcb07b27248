"""Shared pieces of the reliability tests: table checksums, full runs in a subprocess, analysts
reading the snapshot from other processes, and scans for personal data.

The full runs here are the real thing: ``python -m orchestration.run`` with its own environment
(every output path under a tmp folder), as `make run` starts it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psutil

from orchestration.lib.ingest.reasons import ROW_REASONS
from orchestration.resources import REPO_ROOT
from orchestration.sources import SOURCES
from tests.conftest import BUILD_ENV_VARS, build_env

# --- content checksums --------------------------------------------------------------------------

# Columns that say when or in which run a row was written, not what it says: left out of checksums.
VOLATILE_COLUMNS = {
    ("dq", "validation_runs"): ("run_id", "validated_at", "seconds"),
}
# Tables that keep a history (a set of rows per run): only the newest run's rows are compared.
# (run column, time column)
HISTORY_TABLES = {("dq", "validation_runs"): ("run_id", "validated_at")}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables_of(con: duckdb.DuckDBPyConnection, schemas: Iterable[str]) -> list[tuple[str, str]]:
    """(schema, name) of every table and view in the schemas of the connection's own database."""
    return [
        (s, t)
        for s, t in con.execute(
            """
            select schema_name, table_name from duckdb_tables()
            where database_name = current_database() and schema_name in (select unnest(?::varchar[]))
            union all
            select schema_name, view_name from duckdb_views()
            where database_name = current_database() and not internal
              and schema_name in (select unnest(?::varchar[]))
            order by 1, 2
            """,
            [list(schemas), list(schemas)],
        ).fetchall()
    ]


def table_checksum(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, exclude: tuple[str, ...] = ()
) -> tuple[int, int]:
    """(rows, order-independent hash of every row) of one table.

    Floating-point columns are rounded to 9 decimals first: an aggregate over doubles may differ
    in its last bit between two runs (parallel summation order) without saying anything else.
    """
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index",
        [schema, table],
    ).fetchall()
    volatile = VOLATILE_COLUMNS.get((schema, table), ()) + exclude
    parts = [
        f"round({_quote(c)}, 9)" if t in ("DOUBLE", "FLOAT", "REAL") else _quote(c)
        for c, t in columns
        if c not in volatile
    ]
    relation = f"{_quote(schema)}.{_quote(table)}"
    where = ""
    if (schema, table) in HISTORY_TABLES:
        run, stamp = map(_quote, HISTORY_TABLES[(schema, table)])
        where = f" where {run} = (select {run} from {relation} order by {stamp} desc limit 1)"
    count, digest = con.execute(
        f"select count(*), coalesce(sum(hash(row({', '.join(parts)}))::hugeint), 0) from {relation}{where}"
    ).fetchone()
    return int(count), int(digest)


def checksums(
    path: Path, schemas: Iterable[str] = ("marts", "dq"), exclude: tuple[str, ...] = ()
) -> dict[str, tuple[int, int]]:
    """'schema.table' → (rows, content hash) for every table and view of the schemas, leaving
    out the columns named in `exclude` (e.g. ingested_at of raw rows)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {f"{s}.{t}": table_checksum(con, s, t, exclude) for s, t in tables_of(con, schemas)}


def differing(a: dict, b: dict) -> dict:
    """The keys whose values differ, with both values (for readable assertion messages)."""
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


# --- row accounting of the audit ---------------------------------------------------------------


def assert_row_accounting(warehouse: Path) -> None:
    """For every current loaded file: read = loaded + quarantined + skipped; each quarantined row
    has a row-level quarantine entry; skipped rows are counted by why in the run's skipped_by;
    the raw table holds rows_loaded rows of the file. Failed files hold no rows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        states = con.execute(
            "select source_file, source, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
            "run_id from audit.current_files"
        ).fetchall()
        row_level = dict(
            con.execute(
                "select source_file, count(*) from audit.quarantine "
                "where reason_code in (select unnest(?::varchar[])) and column_name is null group by 1",
                [sorted(ROW_REASONS)],
            ).fetchall()
        )
        table_rows = {}
        for source in SOURCES.values():
            table_rows.update(
                dict(
                    con.execute(f"select source_file, count(*) from raw.{source.table} group by 1").fetchall()
                )
            )
        skipped_by = dict(
            con.execute(
                "select source_file, skipped_by from audit.ingest_files "
                "where (run_id, source_file) in (select (run_id, source_file) from audit.file_state)"
            ).fetchall()
        )
    problems = []
    for source_file, _, status, read, loaded, quarantined, skipped, _ in states:
        if status == "loaded":
            if read != loaded + quarantined + skipped:
                problems.append(f"{source_file}: {read} read ≠ {loaded} + {quarantined} + {skipped}")
            if row_level.get(source_file, 0) != quarantined:
                problems.append(
                    f"{source_file}: {quarantined} rows quarantined, {row_level.get(source_file, 0)} recorded"
                )
            by_reason = sum(json.loads(skipped_by.get(source_file) or "{}").values())
            if by_reason != skipped:
                problems.append(f"{source_file}: {skipped} rows skipped, {by_reason} counted by reason")
        expected_rows = loaded if status == "loaded" else 0
        if table_rows.get(source_file, 0) != expected_rows:
            problems.append(
                f"{source_file} ({status}): raw holds {table_rows.get(source_file, 0)}, audit {loaded}"
            )
    assert not problems, "\n".join(problems)


# --- full runs in a subprocess ------------------------------------------------------------------


def run_env(root: Path, raw_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `make run` whose outputs all live under `root`."""
    env = {k: v for k, v in os.environ.items() if k not in BUILD_ENV_VARS}
    env.update(build_env(root, raw_dir))
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --verbose: these tests follow Dagster's step events (STEP_START lines) on the run's console.
RUN_COMMAND = [sys.executable, "-m", "orchestration.run", "--verbose"]


@dataclass
class RunOutcome:
    returncode: int
    output: str  # stdout and stderr, interleaved
    seconds: float
    killed_at: str | None = None  # why the run was killed (the trigger's description)
    survivors: list[int] = field(default_factory=list)  # processes of the run alive after the kill


@dataclass
class RunWatch:
    """What a kill trigger can look at while the run goes on."""

    pid: int
    lines: list[str]
    started: float

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def run_pipeline(
    env: dict[str, str],
    command: list[str] | None = None,
    kill_when: Callable[[RunWatch], str | None] | None = None,
    timeout: float = 900,
) -> RunOutcome:
    """Run the pipeline; with `kill_when` (polled every 50 ms, returns why to kill or None),
    SIGKILL its whole process group, as a power cut would: the run, dbt and any worker."""
    started = time.monotonic()
    process = subprocess.Popen(
        command or RUN_COMMAND,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    watch = RunWatch(process.pid, lines, started)
    killed_at = None
    survivors: list[int] = []
    try:
        while process.poll() is None:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"run took more than {timeout} s:\n{''.join(lines[-50:])}")
            if kill_when is not None:
                killed_at = kill_when(watch)
                if killed_at:
                    family = [process.pid] + [p.pid for p in watch.children()]
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    time.sleep(0.5)
                    survivors = [pid for pid in family if _alive(pid)]
                    break
            time.sleep(0.05)
        process.wait()
        reader.join(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return RunOutcome(process.returncode, "".join(lines), time.monotonic() - started, killed_at, survivors)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def step_started(watch: RunWatch, step: str) -> bool:
    """Whether Dagster logged the start of a step."""
    return any("STEP_START" in line and f'step "{step}"' in line for line in watch.lines)


def lines_since(watch: RunWatch, marker: Callable[[str], bool]) -> list[str]:
    """The output lines after the first line matching `marker` (empty if none did yet)."""
    for i, line in enumerate(list(watch.lines)):
        if marker(line):
            return watch.lines[i + 1 :]
    return []


# --- analysts reading the snapshot from other processes ----------------------------------------

# What an analyst's query answers: rows and a content hash of three tables, read in one
# connection. Two builds' snapshots answer differently; a half-written file errors or answers
# something else.
FINGERPRINT_TABLES = ("marts.mart_target_attainment_monthly", "marts.fct_training_enrolments", "dq.findings")
FINGERPRINT_SQL = " union all ".join(
    f"select '{t}', count(*), coalesce(sum(hash(x))::hugeint, 0)::varchar from {t} as x"
    for t in FINGERPRINT_TABLES
)


def fingerprint(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return json.dumps(con.execute(FINGERPRINT_SQL + " order by 1").fetchall())


# A reader in its own process, with nothing but duckdb imported: open read-only, query, close, again.
READER = """
import json, os, sys, time
import duckdb

path, sql, ready, stop = sys.argv[1:5]
seen, errors, reads = {}, [], 0
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True) as con:
            answer = json.dumps(con.execute(sql + " order by 1").fetchall())
        seen[answer] = seen.get(answer, 0) + 1
        reads += 1
        if reads == 1:
            open(ready, "w").close()
    except Exception as error:
        errors.append(f"{time.time():.2f} {error!r}")
    time.sleep(0.02)
print(json.dumps({"seen": seen, "errors": errors, "reads": reads}))
"""


def publish_older_build(sample_warehouse: Path, target: Path, work: Path) -> None:
    """An earlier month's snapshot at `target`: the sample's marts and dq without the last
    quarter's rows, so that a reader can tell it from the snapshot of a full build."""
    from orchestration.lib.publish.snapshot import publish_snapshot

    work.mkdir(parents=True, exist_ok=True)
    older = work / "older.duckdb"
    shutil.copyfile(sample_warehouse, older)
    with duckdb.connect(str(older)) as con:
        con.execute("delete from marts.mart_target_attainment_monthly where month >= date '2015-10-01'")
        con.execute("delete from marts.fct_training_enrolments where start_month >= date '2015-10-01'")
        con.execute("delete from dq.findings where as_of_month >= date '2015-10-01'")
    publish_snapshot(older, target)
    older.unlink()


def assert_readers_saw_old_then_new(results: list[dict], old: str, new: str) -> None:
    """No reader met an error, each answer was the old build's or the new one's, and the
    readers really overlapped the swap (they saw both)."""
    for result in results:
        assert "crashed" not in result, result
        assert result["errors"] == [], result["errors"][:5]
        others = [answer for answer in result["seen"] if answer not in (old, new)]
        assert not others, f"a reader saw neither the old nor the new build: {others[:1]}"
        assert result["seen"].get(old) and result["seen"].get(new), {
            k[:80]: v for k, v in result["seen"].items()
        }


class SnapshotReaders:
    """Analysts in `count` processes querying the snapshot in a loop until stopped."""

    def __init__(self, snapshot: Path, work: Path, count: int = 2):
        self.snapshot, self.work, self.count = snapshot, work, count
        work.mkdir(parents=True, exist_ok=True)
        self.stop_file = work / "stop"
        self.processes: list[subprocess.Popen] = []
        self.results: list[dict] = []

    def __enter__(self) -> SnapshotReaders:
        for i in range(self.count):
            args = [sys.executable, "-c", READER, str(self.snapshot), FINGERPRINT_SQL]
            args += [str(self.work / f"ready{i}"), str(self.stop_file)]
            self.processes.append(
                subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        deadline = time.monotonic() + 120
        while not all((self.work / f"ready{i}").exists() for i in range(self.count)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                raise AssertionError(f"the readers never managed a first read: {self.results}")
            time.sleep(0.05)
        return self

    def stop(self) -> list[dict]:
        if not self.results:
            self.stop_file.touch()
            for process in self.processes:
                stdout, stderr = process.communicate(timeout=120)
                # how a reader died (a negative code: the signal) when it left no answer
                crashed = {"crashed": stderr[-3000:], "returncode": process.returncode}
                self.results.append(json.loads(stdout) if stdout.strip() else crashed)
        return self.results

    def __exit__(self, *exc) -> None:
        self.stop()


# --- personal data ------------------------------------------------------------------------------

ID_18 = re.compile(r"\d{17}[\dXx]")
ID_15 = re.compile(r"(?<!\d)\d{15}(?!\d)")


def raw_person_names(warehouse: Path) -> set[str]:
    """Every person name the raw files hold (members, heads of household, trainees)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select member_name from raw.household_members union
            select head_name from raw.household_members union
            select trainee_name from raw.training_records
            """
        ).fetchall()
    return {name.strip() for (name,) in rows if name and len(name.strip()) >= 2}


def personal_data_in_texts(texts: Iterable[str], names: set[str]) -> list[str]:
    """ID-number-shaped strings and raw person names found in the texts (at most 20 listed)."""
    names_pattern = re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))
    found = []
    for text in texts:
        for pattern, what in ((ID_18, "18-char ID"), (ID_15, "15-digit ID"), (names_pattern, "name")):
            match = pattern.search(text)
            if match:
                found.append(f"{what} {match.group(0)!r} in {text[:160]!r}")
        if len(found) >= 20:
            break
    return found


def database_texts(path: Path, schemas: Iterable[str]) -> Iterable[str]:
    """Every distinct non-empty value of every column of every table of the schemas, as text
    (numbers too: a 15-digit ID stored as a BIGINT is still an ID)."""
    with duckdb.connect(str(path), read_only=True) as con:
        for schema, table in tables_of(con, schemas):
            columns = con.execute(
                "select column_name from duckdb_columns() where database_name = current_database() "
                "and schema_name = ? and table_name = ?",
                [schema, table],
            ).fetchall()
            for (column,) in columns:
                rows = con.execute(
                    f"select distinct {_quote(column)}::varchar from {_quote(schema)}.{_quote(table)} "
                    f"where {_quote(column)} is not null"
                ).fetchall()
                for (value,) in rows:
                    yield f"{schema}.{table}.{column}: {value}"


def workbook_texts(path: Path) -> Iterable[str]:
    """Every cell of every sheet of a workbook, as text, prefixed with where it is."""
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as workbook:
        for name in workbook.sheet_names:
            for r, row in enumerate(workbook.get_sheet_by_name(name).to_python()):
                for value in row:
                    if value not in ("", None):
                        text = (
                            str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
                        )
                        yield f"{path.name}!{name} row {r + 1}: {text}"


def html_texts(path: Path) -> Iterable[str]:
    """The text of every element of an HTML file, and its attribute values."""
    from html.parser import HTMLParser

    chunks: list[str] = []

    class Collector(HTMLParser):
        def handle_data(self, data: str) -> None:
            if data.strip():
                chunks.append(data.strip())

        def handle_starttag(self, tag, attrs) -> None:
            chunks.extend(v for _, v in attrs if v)

    Collector().feed(path.read_text(encoding="utf-8"))
    return [f"{path.name}: {c}" for c in chunks]


def html_tables(path: Path) -> list[list[list[str]]]:
    """Every <table> of an HTML file as rows of cell texts (th and td alike)."""
    from html.parser import HTMLParser

    tables: list[list[list[str]]] = []

    class Collector(HTMLParser):
        cell: list[str] | None = None

        def handle_starttag(self, tag, attrs) -> None:
            if tag == "table":
                tables.append([])
            elif tag == "tr" and tables:
                tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag) -> None:
            if tag in ("td", "th") and self.cell is not None and tables and tables[-1]:
                tables[-1][-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    Collector().feed(path.read_text(encoding="utf-8"))
    return tables


def column_values(rows: list[list], header: str) -> list[str]:
    """The values under every occurrence of a header cell in a sheet or table (as text), down to
    the end of that table: the next row with less than two cells filled (a blank row, a note)."""
    values = []
    column = None
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        if sum(bool(c.strip()) for c in cells) < 2:
            column = None
            continue
        if header in cells:
            column = cells.index(header)
            continue
        if column is not None and column < len(cells):
            values.append(cells[column])
    return values
