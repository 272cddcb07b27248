"""Parse raw files into Parquet parts of raw rows and quarantine entries.

``parse_files`` is a plain function (no Dagster, no warehouse): it is what the process pool
runs, for one big file or a group of small ones; ``parse_file`` parses one file, which is what
the benchmark times and many tests call. Python does only what needs the cell's type (a date
cell, a number-typed ID, a float that must not become "12.0"); everything per cell that can be
vectorised runs in DuckDB (``normalise.py``) on chunks of ``CHUNK_ROWS`` rows, so memory stays
bounded by the chunk plus calamine's copy of the sheet.

A chunk holds the rows of every sheet of the group laid out alike, whichever file they come
from: planning the SQL of a chunk costs milliseconds, and a province has thousands of files of
a few dozen rows. Each row carries its file (``source_file``) into the parts, so a part may be
shared by several files; each file's counts, notes and parts are its own.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import duckdb
import numpy as np
from python_calamine import CalamineError

from orchestration.lib.ingest.file_types import UnreadableFile, detect_file_kind, is_encrypted
from orchestration.lib.ingest.headers import (
    HEADER_SCAN_ROWS,
    HeaderIndex,
    SheetLayout,
    best_other_source,
    cell_text,
    find_header,
    normalise_header,
)
from orchestration.lib.ingest.normalise import SheetSql, chunk_features, lit
from orchestration.lib.ingest.reasons import reason
from orchestration.lib.ingest.sheets import RawSheet, column_letters, open_sheets
from orchestration.sources import SOURCES, Source

CHUNK_ROWS = 20_000  # rows per DuckDB pass: bigger saves little time, costs memory
_NUMBERING = set("甲乙丙丁戊己庚辛壬癸")


@dataclass
class SheetNote:
    """A quarantine entry about a sheet or a header (not a data cell)."""

    sheet: str
    row_number: int | None
    column_name: str | None
    raw_value: str | None
    reason_code: str
    reason: str


@dataclass
class SheetSummary:
    name: str
    status: str  # loaded | rejected | ignored | empty
    header_rows: tuple[int, ...] = ()  # 1-based
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    message: str | None = None


@dataclass
class ParsedFile:
    """One file's outcome. Its parts may hold other files' rows too: read them with
    ``where source_file = <this file>`` unless the file was parsed alone."""

    source: str
    source_file: str
    status: str = "loaded"  # loaded | failed
    error: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    skipped: Counter = field(default_factory=Counter)  # blank / total / header / numbering
    sheets: list[SheetSummary] = field(default_factory=list)
    notes: list[SheetNote] = field(default_factory=list)
    row_parts: list[str] = field(default_factory=list)
    quarantine_parts: list[str] = field(default_factory=list)
    cells_quarantined: int = 0  # quarantine entries about single cells (rows stay loaded)
    seconds: float = 0.0

    @property
    def sheets_rejected(self) -> int:
        return sum(s.status == "rejected" for s in self.sheets)

    def fail(self, message: str) -> None:
        """The file is not loaded: none of its rows or entries are (its parts, which other files
        may share, are scratch: whoever made the folder removes them)."""
        self.status, self.error = "failed", message
        self.rows_loaded = self.rows_quarantined = self.rows_skipped = self.rows_read = 0
        self.cells_quarantined = 0
        self.row_parts, self.quarantine_parts = [], []


@dataclass(frozen=True)
class FileTask:
    path: Path
    source: str  # the source's name
    source_file: str  # path relative to the raw folder (lineage)


_connection: duckdb.DuckDBPyConnection | None = None


def _duckdb(threads: int) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process for the normalisation SQL (not the warehouse)."""
    global _connection
    if _connection is None:
        _connection = duckdb.connect(":memory:", config={"threads": threads})
        # chunk columns are always Python str: skip DuckDB's per-column type sampling (~1 ms each)
        _connection.execute("set pandas_analyze_sample = 0")
    return _connection


def parse_file(
    path: Path,
    source_name: str,
    out_dir: Path,
    source_file: str | None = None,
    *,
    threads: int = 1,
    chunk_rows: int = CHUNK_ROWS,
) -> ParsedFile:
    """Parse ``path`` as a file of ``source_name``, writing Parquet parts into ``out_dir``.

    Never raises for a bad file: the result says ``failed`` with a sentence an official can
    act on. ``source_file`` is the path relative to the raw folder (lineage); default: name.
    """
    task = FileTask(path, source_name, source_file or path.name)
    return parse_files([task], out_dir, threads=threads, chunk_rows=chunk_rows)[0]


def parse_files(
    tasks: Sequence[FileTask], out_dir: Path, *, threads: int = 1, chunk_rows: int = CHUNK_ROWS
) -> list[ParsedFile]:
    """Parse several files (of any sources) together, sharing DuckDB passes; one result each,
    in order. A bad file fails alone, as with ``parse_file``."""
    if len({task.source_file for task in tasks}) != len(tasks):
        raise ValueError("two tasks with the same source_file")
    out_dir.mkdir(parents=True, exist_ok=True)
    group = _Group(_duckdb(threads), out_dir, chunk_rows)
    # the rows of a chunk are thousands of lists and tuples, none in a cycle: the cyclic GC
    # would walk them again and again for nothing
    collecting = gc.isenabled()
    gc.disable()
    try:
        parsers = [group.parse(task) for task in tasks]
        group.finish()
    finally:
        if collecting:
            gc.enable()
    return [parser.result for parser in parsers]


def _failure_message(error: BaseException, source_file: str = "", sheet: str | None = None) -> str:
    """The failed file's error: what an official can act on, and for an unexpected error (a bug
    a file's content triggers) the file, the sheet being read and the exception."""
    if isinstance(error, UnreadableFile):
        return error.message
    if isinstance(error, CalamineError):
        return _calamine_message(error)
    where = f"“{source_file}”" if source_file else ""
    where += f"工作表“{sheet}”" if sheet else ""
    prefix = f"处理{where}时出错：" if where else ""
    return reason("unreadable", detail=f"{prefix}{type(error).__name__}: {error}"[:300])


def _calamine_message(error: Exception) -> str:
    name = type(error).__name__
    if name == "PasswordError":
        return reason("encrypted")
    if name in ("ZipError", "XmlError"):
        return (
            reason("corrupt_zip")
            if name == "ZipError"
            else reason("unreadable", detail=f"XML 损坏：{error}"[:300])
        )
    return reason("unreadable", detail=f"{name}: {error}"[:300])


def _settle(result: ParsedFile) -> None:
    """File status from its sheets: loaded if any sheet loaded, else failed with the reasons."""
    if any(s.status == "loaded" for s in result.sheets):
        return
    problems = [s for s in result.sheets if s.status == "rejected"]
    if not problems:
        result.fail(reason("empty_workbook"))
        return
    details = "；".join(f"工作表“{s.name}”：{s.message}" if s.name else s.message or "" for s in problems)
    result.fail(reason("no_loadable_sheet", details=details))


class _Group:
    """The files parsed together: their batches of rows waiting for a DuckDB pass."""

    def __init__(self, con: duckdb.DuckDBPyConnection, out_dir: Path, chunk_rows: int):
        self.con = con
        self.out_dir = out_dir
        self.chunk_rows = chunk_rows
        self.batches: dict[tuple, _Batch] = {}
        self.sqls: dict[tuple, SheetSql] = {}
        self.parsers: dict[str, _FileParser] = {}  # source_file → its parser
        self.parts = 0

    def parse(self, task: FileTask) -> _FileParser:
        started = perf_counter()
        parser = _FileParser(SOURCES[task.source], ParsedFile(task.source, task.source_file), self, task.path)
        self.parsers[task.source_file] = parser
        marks = {key: batch.mark() for key, batch in self.batches.items()}
        try:
            kind = detect_file_kind(task.path, check_encryption=False)
            parser.ole = kind.kind == "ole"
            for sheet in open_sheets(task.path, kind):
                parser.current_sheet = sheet.name
                parser.parse_sheet(sheet)
            parser.current_sheet = None
        except BaseException as error:  # a bad file must never stop the others: report it instead
            if isinstance(error, KeyboardInterrupt | SystemExit):  # pyo3 panics are BaseException
                raise
            for key, batch in self.batches.items():
                batch.drop_since(marks.get(key))
            parser.result.fail(_failure_message(error, task.source_file, parser.current_sheet))
            parser.explain_failure()
        parser.result.seconds += perf_counter() - started
        return parser

    def finish(self) -> None:
        """Flush the rows still waiting, then add up each file's sheets into its totals."""
        try:
            for batch in self.batches.values():
                self.flush(batch)
        finally:
            self.con.execute("drop table if exists staged")
        for parser in self.parsers.values():
            parser.finish()

    def batch(self, source: Source, layout: SheetLayout) -> tuple[_Batch, list[int], int]:
        """The batch for a sheet, the physical columns to take from each of its rows (its columns
        in contract order, then the first column, duplicates, unnamed ones) and the sheet's number
        in the batch. Sheets share their DuckDB passes whatever their columns, order, header texts
        or file; only duplicated and unnamed columns (rare) make a batch of their own."""
        mapped, duplicates = layout.columns, layout.duplicates
        key = (source.name, tuple(duplicates.values()), len(layout.unnamed))
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = _Batch(source, tuple(duplicates.values()), len(layout.unnamed))
        position = {name: j for j, name in mapped.items()}
        names = tuple(c.name for c in source.all_columns if c.name in position)
        first_column = 0 not in mapped and 0 not in duplicates and 0 not in layout.unnamed
        labels = [layout.labels[position[name]] for name in names]
        # the header's own text, to spot it repeated as a data row
        headers = [normalise_header(label.split("/")[-1]) or None for label in labels]
        places = [position[name] for name in names]
        batch.sheets.append(_SheetColumns(names, first_column, labels, headers, places))
        picks = places + ([0] if first_column else []) + list(duplicates) + list(layout.unnamed)
        return batch, picks, len(batch.sheets) - 1

    def sql(self, batch: _Batch, names: tuple[str, ...], first_column: bool) -> SheetSql:
        key = (batch.source.name, names, first_column, batch.duplicates, batch.unnamed)
        if key not in self.sqls:
            self.sqls[key] = SheetSql(batch.source, names, first_column, batch.duplicates, batch.unnamed)
        return self.sqls[key]

    def flush(self, batch: _Batch) -> None:
        """One DuckDB pass over the waiting rows. Should it fail (a bug, not a bad cell), each
        file's rows are tried alone, so that only the file that causes it fails."""
        if not batch.rows:
            return
        started = perf_counter()
        pending = batch.take()
        try:
            self._pass(batch, pending)
        except Exception as error:
            files = {segment[0] for segment in pending.segments}
            if len(files) == 1:
                source_file = files.pop()
                self.parsers[source_file].result.fail(_failure_message(error, source_file))
            else:
                for alone in pending.by_file():
                    try:
                        self._pass(batch, alone)
                    except Exception as error_alone:
                        source_file = alone.segments[0][0]
                        self.parsers[source_file].result.fail(_failure_message(error_alone, source_file))
        # the pass's time goes to the files of the chunk, by their rows
        seconds = perf_counter() - started
        for source_file, rows in pending.rows_by_file().items():
            self.parsers[source_file].result.seconds += seconds * rows / len(pending.rows)

    def _pass(self, batch: _Batch, pending: _Pending) -> None:
        """Parquet parts of raw rows and quarantine entries; each file's counts and parts."""
        source = batch.source
        in_chunk = sorted({segment[3] for segment in pending.segments})
        sheets_in = [batch.sheets[n] for n in in_chunk]
        present = {name for sheet in sheets_in for name in sheet.names}
        # the chunk's columns: those of any of its sheets (a sheet without one has it empty)
        names = tuple(c.name for c in source.all_columns if c.name in present)
        first_column = any(sheet.first_column for sheet in sheets_in)
        sql = self.sql(batch, names, first_column)
        columns = {c.name: c for c in source.all_columns}
        kinds = [columns[name].kind for name in names] + (["text"] if first_column else [])
        kinds += [columns[name].kind for name in batch.duplicates] + ["text"] * batch.unnamed
        chunk_names = list(names) + (["_first"] if first_column else [])
        chunk_names += [f"_dup_{k}" for k in range(len(batch.duplicates))]
        chunk_names += [f"_unnamed_{k}" for k in range(batch.unnamed)]
        values = pending.columns(batch, chunk_names)
        rows = pending.rows
        arrays: dict[str, np.ndarray] = {
            "_seq": np.arange(len(rows), dtype=np.int32),
            "_row": np.asarray(pending.numbers, dtype=np.int32),
            "_file": np.asarray(pending.repeat(0), dtype=object),
            "_sheet": np.asarray(pending.repeat(1), dtype=object),
            "_title": np.asarray(pending.repeat(2), dtype=object),
            "_sheetno": np.asarray(pending.repeat(3), dtype=np.int32),
        }
        # per sheet: each column's header as shown, normalised (NULL: no column) and its position
        sheets: dict[str, np.ndarray] = {"_sheetno": np.asarray(in_chunk, dtype=np.int32)}
        for name in names:
            at = [sheet.names.index(name) if name in sheet.names else None for sheet in sheets_in]
            pairs = list(zip(sheets_in, at, strict=True))
            sheets[f"l__{name}"] = np.asarray([None if i is None else s.labels[i] for s, i in pairs], object)
            headers = [None if i is None else s.headers[i] for s, i in pairs]
            sheets[f"h__{name}"] = np.asarray(headers, object)
            sheets[f"f__{name}"] = np.asarray([_ideograph(h[:1]) if h else None for h in headers], object)
            sheets[f"o__{name}"] = np.asarray([-1 if i is None else s.places[i] for s, i in pairs], np.int32)
        id_flags = set()
        described = []  # (name, texts, header texts, kind) of each column, for its features
        for name, kind, column in zip(chunk_names, kinds, values, strict=True):
            texts, typed = _text_column(column, kind)
            if typed is not None:
                arrays[f"num__{name}"] = np.asarray(typed, dtype=bool)
                id_flags.add(name)
            headers = tuple(
                {sheet.headers[sheet.names.index(name)] or "" for sheet in sheets_in if name in sheet.names}
            )
            described.append((name, texts, headers, kind))
            arrays[name] = np.asarray(texts, dtype=object)
        chunk_sql = sql.for_chunk(chunk_features(described), frozenset(id_flags))
        con = self.con
        con.register("chunk", arrays)
        con.register("sheets", sheets)
        try:
            con.execute(chunk_sql.stage)
            found = con.execute(chunk_sql.counts).fetchall()
            part = self.parts
            self.parts += 1
            rows_path = quarantine_path = None
            if any(n for _, _, status, n, _, _ in found if status == "loaded"):
                rows_path = str(self.out_dir / f"rows-{part:05d}.parquet")
                con.execute(f"copy ({chunk_sql.rows}) to {lit(rows_path)} (format parquet, compression lz4)")
            whole_rows = any(status == "quarantined" for _, _, status, _, _, _ in found)
            if whole_rows or any(flagged for _, _, status, _, flagged, _ in found if status == "loaded"):
                quarantine_path = str(self.out_dir / f"quarantine-{part:05d}.parquet")
                query = chunk_sql.quarantine if whole_rows else chunk_sql.cell_quarantine
                con.execute(f"copy ({query}) to {lit(quarantine_path)} (format parquet)")
            unnamed = con.execute(chunk_sql.unnamed_counts).fetchall() if chunk_sql.unnamed_counts else []
        finally:
            con.unregister("chunk")
            con.unregister("sheets")
        # a file that failed since its rows were added has no counts and no parts
        live = {f for f, parser in self.parsers.items() if parser.result.status != "failed"}
        with_rows, with_entries = set(), set()
        for source_file, sheet_name, status, n, flagged, cells in found:
            if source_file not in live:
                continue
            parser = self.parsers[source_file]
            summary = parser.summaries[sheet_name]
            if status == "loaded":
                summary.rows_loaded += n
                parser.result.cells_quarantined += cells
                with_rows.add(source_file)
                if flagged:
                    with_entries.add(source_file)
            elif status == "quarantined":
                summary.rows_quarantined += n
                with_entries.add(source_file)
            else:  # blank / total / header
                summary.rows_skipped += n
                parser.result.skipped[status] += n
        for source_file in with_rows:
            self.parsers[source_file].result.row_parts.append(rows_path)
        for source_file in with_entries:
            self.parsers[source_file].result.quarantine_parts.append(quarantine_path)
        for source_file, sheet_name, *counts in unnamed:
            if source_file in live:
                parser = self.parsers[source_file]
                previous = parser.unnamed_counts.get(sheet_name, [0] * len(counts))
                parser.unnamed_counts[sheet_name] = [a + b for a, b in zip(previous, counts, strict=True)]


class _FileParser:
    def __init__(self, source: Source, result: ParsedFile, group: _Group, path: Path):
        self.source = source
        self.path = path
        self.index = HeaderIndex.of(source.name)
        self.result = result
        self.group = group
        self.summaries: dict[str, SheetSummary] = {}
        self.where: dict[str, tuple[int, int, list[int]]] = {}  # sheet → header row, first, unnamed
        self.ole = False  # an OLE file (xls, WPS et, or an encrypted xlsx)
        self.unnamed_counts: dict[str, list[int]] = {}  # sheet → cells per unnamed column
        self.current_sheet: str | None = None  # the sheet being read, for an error message

    def finish(self) -> None:
        """Notes on unnamed columns with data, the file's totals and its status."""
        if self.result.status == "failed":
            return
        for sheet_name, counts in self.unnamed_counts.items():
            header_row, first_column, unnamed = self.where[sheet_name]
            for j, count in zip(unnamed, counts, strict=True):
                if count:
                    self.note(
                        sheet_name,
                        header_row,
                        None,
                        None,
                        "unnamed_column_with_data",
                        letter=column_letters(j + first_column),
                        count=count,
                    )
        for key in ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped"):
            setattr(self.result, key, sum(getattr(s, key) for s in self.result.sheets))
        _settle(self.result)
        if self.result.status == "failed":
            self.explain_failure()

    def explain_failure(self) -> None:
        """An OLE file that could not be read may have an opening password: say so (looked at
        only now: the check reads the whole file)."""
        if self.ole and is_encrypted(self.path):
            self.result.error = reason("encrypted")

    def note(
        self, sheet_name: str, row: int | None, column: str | None, raw: str | None, code: str, **values
    ):
        self.result.notes.append(SheetNote(sheet_name, row, column, raw, code, reason(code, **values)))

    def parse_sheet(self, sheet: RawSheet) -> None:
        scan: list[tuple[int, list]] = []
        consumed: list[tuple[int, list]] = []
        index = -1
        for index, row in enumerate(sheet.rows):
            consumed.append((index, row))
            if not _is_empty(row):
                scan.append((index, row))
                if len(scan) >= HEADER_SCAN_ROWS:
                    break
        summary = SheetSummary(sheet.name, "empty")
        self.result.sheets.append(summary)
        self.summaries[sheet.name] = summary
        if not scan:
            return
        layout = find_header(self.index, scan, sheet.merges)
        if layout is None:
            self._no_header(sheet, scan, summary)
            return
        if sheet.hidden:
            self._hidden(sheet, scan, summary)
            return
        summary.header_rows = tuple(r + 1 for r in layout.header_rows)
        header_row = layout.header_rows[0] + 1
        around_header = [r for r in scan if layout.header_rows[0] - 1 <= r[0] <= layout.last_header_row + 1]
        other = best_other_source(around_header, self.source.name, layout.matched)
        if other is not None:
            self._refuse(sheet, summary, "wrong_folder", other=other.title_zh, folder=other.folder)
            return
        missing = layout.missing_required(self.source)
        if missing:
            summary.status = "rejected"
            names = "、".join(c.header for c in missing)
            summary.message = reason("missing_required_column", header=names)
            for column in missing:
                self.note(
                    sheet.name, header_row, column.name, None, "missing_required_column", header=column.header
                )
            return
        for j in layout.unknown:
            self.note(
                sheet.name, header_row, None, layout.labels[j], "unknown_column", header=layout.labels[j]
            )
        duplicates = layout.duplicates
        for j, name in duplicates.items():
            first = next(i for i, n in layout.columns.items() if n == name)
            self.note(
                sheet.name,
                header_row,
                name,
                layout.labels[j],
                "duplicate_column",
                header=layout.labels[j],
                first=layout.labels[first],
                name=name,
            )
        last_header = layout.last_header_row
        rest = itertools.chain(
            (item for item in consumed if item[0] > last_header), enumerate(sheet.rows, start=index + 1)
        )
        summary.status = "loaded"
        self._load_rows(sheet, layout, rest, summary)
        if summary.rows_read == 0:
            self.note(sheet.name, header_row, None, None, "header_only_sheet")

    def _hidden(self, sheet: RawSheet, scan: list[tuple[int, list]], summary: SheetSummary) -> None:
        """A hidden (or very hidden) sheet with a header is an old version or a working copy the
        office did not mean to send: not loaded, and said so with its non-blank row count. (A
        hidden sheet without a header, such as a drop-down list, is only noted as ignored.)"""
        rows = len(scan) + sum(1 for row in sheet.rows if not _is_empty(row))
        summary.status = "rejected"
        summary.message = reason("hidden_sheet", sheet=sheet.name, rows=rows)
        self.note(sheet.name, None, None, str(rows), "hidden_sheet", sheet=sheet.name, rows=rows)

    def _no_header(self, sheet: RawSheet, scan: list[tuple[int, list]], summary: SheetSummary) -> None:
        table_like = sum(1 for _, row in scan if sum(1 for v in row if v != "") >= 2) >= 2
        if sheet.hidden or not table_like:
            summary.status = "ignored"
            why = "隐藏的工作表" if sheet.hidden else "没有表格内容"
            self.note(sheet.name, None, None, None, "sheet_ignored", sheet=sheet.name, why=why)
            return
        other = best_other_source(scan, self.source.name)
        if other is not None:
            self._refuse(sheet, summary, "wrong_folder", other=other.title_zh, folder=other.folder)
        else:
            self._refuse(sheet, summary, "no_header_row", scan=HEADER_SCAN_ROWS)

    def _refuse(self, sheet: RawSheet, summary: SheetSummary, code: str, **values) -> None:
        summary.status = "rejected"
        summary.message = reason(code, title=self.source.title_zh, **values)
        self.note(sheet.name, None, None, None, code, title=self.source.title_zh, **values)

    def _load_rows(self, sheet: RawSheet, layout: SheetLayout, rows, summary: SheetSummary) -> None:
        group = self.group
        batch, picks, sheetno = group.batch(self.source, layout)
        self.where[sheet.name] = (layout.header_rows[0] + 1, sheet.first_column, layout.unnamed)
        getter = operator.itemgetter(*picks) if len(picks) > 1 else lambda row: (row[picks[0]],)
        width = len(layout.labels)  # header width: calamine rows all have it, csv rows may not
        fills = _merge_fills(sheet.merges, layout.last_header_row)
        anchors: dict[tuple[int, int], object] = {}
        repair = bool(sheet.error_cells or fills or sheet.ragged)
        extra_cells = 0
        last_header = last_used = layout.last_header_row
        used = 0
        check_numbering = True
        chunk_rows = group.chunk_rows
        cells, numbers = batch.rows, batch.numbers
        segment = (self.result.source_file, sheet.name, layout.title, sheetno)
        start = len(cells)
        # the hot loop: one pass over the rows, C-level calls only on the common path
        for index, row in rows:
            if repair:
                if len(row) != width:
                    if len(row) > width and any(v != "" for v in row[width:]):
                        extra_cells += 1
                    row = (list(row) + [""] * width)[:width]
                if index in sheet.error_cells:
                    for j, text in sheet.error_cells[index].items():
                        if j < width and row[j] == "":
                            row[j] = text
                if index in fills:
                    _apply_fills(row, index, fills[index], anchors)
            if row.count("") == width:
                continue
            last_used = index
            used += 1
            if check_numbering:
                check_numbering = False
                if _is_numbering_row(row):  # "甲 乙 1 2 3 …" under the header: column numbers
                    summary.rows_skipped += 1
                    self.result.skipped["numbering"] += 1
                    continue
            cells.append(getter(row))
            numbers.append(index + 1)
            if len(cells) >= chunk_rows:
                batch.add_segment(*segment, len(cells) - start)
                group.flush(batch)
                cells, numbers, start = batch.rows, batch.numbers, 0
        batch.add_segment(*segment, len(cells) - start)
        # empty rows between the header and the last used row count as read and skipped
        summary.rows_read = last_used - last_header
        blank = summary.rows_read - used
        summary.rows_skipped += blank
        self.result.skipped["blank"] += blank
        if extra_cells:
            letter = column_letters(width + sheet.first_column)
            self.note(
                sheet.name,
                layout.header_rows[0] + 1,
                None,
                None,
                "unnamed_column_with_data",
                letter=f"{letter} 及以后",
                count=extra_cells,
            )


@dataclass
class _Pending:
    """Rows taken from a batch for one DuckDB pass, with the (file, sheet, title, sheet number)
    of each run of rows."""

    rows: list[tuple]
    numbers: list[int]
    segments: list[tuple[str, str, str, int, int]]  # (source_file, sheet, title, sheetno, rows)

    def repeat(self, field_index: int) -> list:
        """A per-row column of one segment field (0 source_file, 1 sheet, 2 title, 3 sheetno)."""
        return list(itertools.chain.from_iterable([s[field_index]] * s[4] for s in self.segments))

    def columns(self, batch: _Batch, names: list[str]) -> list[tuple]:
        """The chunk's columns ``names``, each sheet's rows taking theirs from its own picks;
        a column a sheet lacks is empty for its rows."""
        layouts = {segment[3]: _chunk_names(batch.sheets[segment[3]], batch) for segment in self.segments}
        if all(layout == names for layout in layouts.values()):
            return list(zip(*self.rows, strict=True))
        parts: list[list[tuple]] = [[] for _ in names]
        at = 0
        for segment in self.segments:
            n = segment[4]
            own = dict(zip(layouts[segment[3]], zip(*self.rows[at : at + n], strict=True), strict=True))
            for part, name in zip(parts, names, strict=True):
                part.append(own[name] if name in own else ("",) * n)
            at += n
        return [tuple(itertools.chain.from_iterable(part)) for part in parts]

    def rows_by_file(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for source_file, *_, n in self.segments:
            counts[source_file] = counts.get(source_file, 0) + n
        return counts

    def by_file(self) -> list[_Pending]:
        """The same rows split by file."""
        alone: dict[str, _Pending] = {}
        at = 0
        for segment in self.segments:
            n = segment[4]
            part = alone.setdefault(segment[0], _Pending([], [], []))
            part.rows += self.rows[at : at + n]
            part.numbers += self.numbers[at : at + n]
            part.segments.append(segment)
            at += n
        return list(alone.values())


@dataclass
class _SheetColumns:
    """A sheet's columns: contract names (contract order), whether the chunk takes its first
    column for 合计, and per name the header as shown, normalised, and its position."""

    names: tuple[str, ...]
    first_column: bool
    labels: list[str]
    headers: list[str | None]
    places: list[int]


def _chunk_names(sheet: _SheetColumns, batch: _Batch) -> list[str]:
    """The chunk columns a sheet's picked rows hold, in order."""
    names = list(sheet.names) + (["_first"] if sheet.first_column else [])
    names += [f"_dup_{k}" for k in range(len(batch.duplicates))]
    return names + [f"_unnamed_{k}" for k in range(batch.unnamed)]


@dataclass
class _Batch:
    """Rows of sheets of one source (with the same duplicated and unnamed columns), waiting for
    one DuckDB pass."""

    source: Source
    duplicates: tuple[str, ...]  # the names the duplicated columns repeat
    unnamed: int  # columns without a header
    rows: list[tuple] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    segments: list[tuple[str, str, str, int, int]] = field(default_factory=list)  # see _Pending
    sheets: list[_SheetColumns] = field(default_factory=list)  # by sheet number
    passes: int = 0

    def add_segment(self, source_file: str, sheet: str, title: str, sheetno: int, rows: int) -> None:
        if rows:
            self.segments.append((source_file, sheet, title, sheetno, rows))

    def take(self) -> _Pending:
        pending = _Pending(self.rows, self.numbers, self.segments)
        self.rows, self.numbers, self.segments = [], [], []
        self.passes += 1
        return pending

    def mark(self) -> tuple[int, int, int]:
        return self.passes, len(self.rows), len(self.segments)

    def drop_since(self, mark: tuple[int, int, int] | None) -> None:
        """Forget the rows added since ``mark`` (those of a file that failed half-way). Rows of
        it already written are in parts the failed file no longer lists."""
        passes, rows, segments = mark or (-1, 0, 0)
        if passes != self.passes:  # a pass since: what waits now is all the failed file's
            rows = segments = 0
        del self.rows[rows:], self.numbers[rows:], self.segments[segments:]


def _ideograph(char: str) -> str | None:
    """``char`` if it is a CJK unified ideograph (nothing else lower-cases to one), else None."""
    return char if "\u4e00" <= char <= "\u9fff" else None


def _is_empty(row: list) -> bool:
    return row.count("") == len(row)


def _is_numbering_row(row: list) -> bool:
    texts = [cell_text(v) for v in row if v != ""]
    # isdecimal, not isdigit: "③" and "²" are digits to Python but int() refuses them
    numbers = [int(t) for t in texts if t.isdecimal()]
    others = [t for t in texts if not t.isdecimal()]
    if len(texts) < 3 or len(numbers) < 2 or not all(t in _NUMBERING for t in others):
        return False
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _merge_fills(merges, last_header_row: int) -> dict[int, list[tuple[int, int, int]]]:
    """Row → merged ranges (r0, c0, c1) covering it below the header: the value sits in the
    top-left cell only, but every cell of the range shows it (a county merged over its rows)."""
    fills: dict[int, list[tuple[int, int, int]]] = {}
    for (r0, c0), (r1, c1) in merges or ():
        if r0 <= last_header_row or (r0 == r1 and c0 == c1) or c0 < 0:
            continue
        for r in range(r0, r1 + 1):
            fills.setdefault(r, []).append((r0, c0, c1))
    return fills


def _apply_fills(row: list, index: int, ranges, anchors: dict[tuple[int, int], object]) -> None:
    for r0, c0, c1 in ranges:
        if index == r0:
            anchors[(r0, c0)] = row[c0] if c0 < len(row) else ""
        value = anchors.get((r0, c0), "")
        for c in range(c0, min(c1 + 1, len(row))):
            if row[c] == "":
                row[c] = value


# --- typed cells to text: the only per-cell Python work, and only for non-text columns -------


def _g15(value: float) -> str:
    # Excel shows 15 significant digits: 12.0 → "12", 6.2010219850101e17 → "6.2010219850101E+17"
    return f"{value:.15G}"


def _month_number(value: float) -> str:
    # 2015.10 typed into a number cell arrives as 2015.1: two decimals keep it October
    return f"{value:.2f}" if 1900 <= value < 2100 else _g15(value)


def _datetime_text(value: dt.datetime, kind: str) -> str:
    if kind in ("date", "month"):
        return value.strftime("%Y-%m-%d")
    text = value.isoformat(sep=" ")
    return text.removesuffix(" 00:00:00")


def _text_column(values: tuple, kind: str) -> tuple[tuple | list, list | None]:
    """A column of cells as text, and for ID columns with number cells, which ones were numbers."""
    types = set(map(type, values))
    if types == {str}:
        return values, None
    number = _month_number if kind == "month" else _g15
    yes, no = ("是", "否") if kind == "yes_no" else ("TRUE", "FALSE")

    def text(v):
        t = type(v)
        if t is float:
            return number(v)
        if t is bool:
            return yes if v else no
        if t is int:
            return str(v)
        if t is dt.datetime:
            return _datetime_text(v, kind)
        if t is dt.date:
            return v.isoformat()
        return str(v)

    texts = [v if type(v) is str else text(v) for v in values]  # most cells are text: no call
    flags = None
    if kind == "id_number" and (float in types or int in types):
        flags = [type(v) in (float, int) for v in values]
    return texts, flags
