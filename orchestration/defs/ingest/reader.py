"""Parse one raw file into Parquet parts of raw rows and quarantine entries.

``parse_file`` is a plain function (no Dagster, no warehouse): it is what the process pool
runs, what the benchmark times and what most tests call through ``pipeline.ingest_raw``.
Python does only what needs the cell's type (a date cell, a number-typed ID, a float that
must not become "12.0"); everything per cell that can be vectorised runs in DuckDB
(``normalise.py``) on chunks of ``CHUNK_ROWS`` rows, so memory stays bounded by the chunk
plus calamine's copy of the sheet.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import duckdb
import numpy as np
from python_calamine import CalamineError

from orchestration.defs.ingest.file_types import UnreadableFile, detect_file_kind
from orchestration.defs.ingest.headers import (
    HEADER_SCAN_ROWS,
    HeaderIndex,
    SheetLayout,
    best_other_source,
    cell_text,
    find_header,
    normalise_header,
)
from orchestration.defs.ingest.normalise import SheetSql, chunk_features, lit
from orchestration.defs.ingest.reasons import reason
from orchestration.defs.ingest.sheets import RawSheet, column_letters, open_sheets
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
        self.status, self.error = "failed", message
        self.rows_loaded = self.rows_quarantined = self.rows_skipped = self.rows_read = 0
        self.cells_quarantined = 0
        for part in self.row_parts + self.quarantine_parts:
            Path(part).unlink(missing_ok=True)
        self.row_parts, self.quarantine_parts = [], []


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
    started = perf_counter()
    result = ParsedFile(source_name, source_file or path.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        kind = detect_file_kind(path)
        parser = _FileParser(SOURCES[source_name], result, out_dir, _duckdb(threads), chunk_rows)
        try:
            for sheet in open_sheets(path, kind):
                parser.parse_sheet(sheet)
            parser.finish()
        finally:
            parser.con.execute("drop table if exists staged")
        _settle(result)
    except UnreadableFile as error:
        result.fail(error.message)
    except CalamineError as error:
        result.fail(_calamine_message(error))
    except Exception as error:  # a bad file must never stop the run: report it instead
        result.fail(reason("unreadable", detail=f"{type(error).__name__}: {error}"[:300]))
    except BaseException as error:  # pyo3 panics are BaseException; Ctrl-C still stops
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        result.fail(reason("unreadable", detail=f"{type(error).__name__}: {error}"[:300]))
    result.seconds = perf_counter() - started
    return result


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


class _FileParser:
    def __init__(self, source: Source, result: ParsedFile, out_dir: Path, con, chunk_rows: int):
        self.source = source
        self.index = HeaderIndex.of(source.name)
        self.result = result
        self.out_dir = out_dir
        self.con = con
        self.chunk_rows = chunk_rows
        self.columns = {c.name: c for c in source.all_columns}
        self.batches: dict[tuple, _Batch] = {}
        self.summaries: dict[str, SheetSummary] = {}

    def finish(self) -> None:
        """Flush the rows still waiting, then add up the sheets into the file's totals."""
        for batch in self.batches.values():
            self._flush(batch)
            for sheet_name, counts in batch.unnamed_counts.items():
                header_row, first_column = batch.where[sheet_name]
                for j, count in zip(batch.sql.unnamed, counts, strict=True):
                    if count:
                        self.note(
                            sheet_name,
                            header_row,
                            None,
                            None,
                            "unnamed_column_with_data",
                            column=column_letters(j + first_column),
                            count=count,
                        )
        for key in ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped"):
            setattr(self.result, key, sum(getattr(s, key) for s in self.result.sheets))

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

    def _batch(self, layout: SheetLayout) -> _Batch:
        """The batch for this column layout: sheets laid out alike share their DuckDB passes."""
        mapped, duplicates = layout.columns, layout.duplicates
        first_column = 0 not in mapped and 0 not in duplicates and 0 not in layout.unnamed
        header_texts = {
            j: normalise_header(layout.labels[j].split("/")[-1]) for j in mapped if layout.labels.get(j)
        }
        key = (
            tuple(mapped.items()),
            tuple(layout.labels[j] for j in mapped),
            first_column,
            tuple(duplicates.items()),
            tuple(layout.unnamed),
            tuple(sorted(header_texts.items())),
        )
        if key not in self.batches:
            sql = SheetSql(
                self.source,
                dict(mapped),
                dict(layout.labels),
                header_texts,
                first_column=first_column,
                duplicates=dict(duplicates),
                unnamed=list(layout.unnamed),
            )
            picks = list(mapped) + ([0] if first_column else []) + list(duplicates) + list(layout.unnamed)
            self.batches[key] = _Batch(sql, picks)
        return self.batches[key]

    def _load_rows(self, sheet: RawSheet, layout: SheetLayout, rows, summary: SheetSummary) -> None:
        batch = self._batch(layout)
        batch.where[sheet.name] = (layout.header_rows[0] + 1, sheet.first_column)
        getter = operator.itemgetter(*batch.picks)
        width = len(layout.labels)  # header width: calamine rows all have it, csv rows may not
        fills = _merge_fills(sheet.merges, layout.last_header_row)
        anchors: dict[tuple[int, int], object] = {}
        repair = bool(sheet.error_cells or fills or sheet.ragged)
        extra_cells = 0
        last_header = last_used = layout.last_header_row
        used = 0
        check_numbering = True
        chunk_rows = self.chunk_rows
        cells, numbers = batch.rows, batch.numbers
        sheet_name, title = sheet.name, layout.title
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
                batch.add_sheet(sheet_name, title, len(cells) - start)
                self._flush(batch)
                cells, numbers, start = batch.rows, batch.numbers, 0
        batch.add_sheet(sheet_name, title, len(cells) - start)
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
                column=f"{letter} 及以后",
                count=extra_cells,
            )

    def _flush(self, batch: _Batch) -> None:
        """One DuckDB pass over the waiting rows: Parquet parts of raw rows and quarantine."""
        if not batch.rows:
            return
        sql = batch.sql
        values = list(zip(*batch.rows, strict=True)) if len(batch.picks) > 1 else [tuple(batch.rows)]
        names = list(sql.mapped.values()) + (["_first"] if sql.first_column else [])
        kinds = [self.columns[name].kind for name in sql.mapped.values()] + (
            ["text"] if sql.first_column else []
        )
        names += [f"_dup_{j}" for j in sql.duplicates] + [f"_unnamed_{j}" for j in sql.unnamed]
        kinds += [self.columns[name].kind for name in sql.duplicates.values()] + ["text"] * len(sql.unnamed)
        arrays: dict[str, np.ndarray] = {
            "_seq": np.arange(len(batch.rows), dtype=np.int32),
            "_row": np.asarray(batch.numbers, dtype=np.int32),
            "_sheet": np.asarray(batch.sheet_of_row(), dtype=object),
            "_title": np.asarray(batch.title_of_row(), dtype=object),
        }
        id_flags = set()
        described = []  # (name, texts, header, kind) of the columns the SQL reads by features
        for name, kind, column in zip(names, kinds, values, strict=True):
            texts, typed = _text_column(column, kind)
            if typed is not None:
                arrays[f"num__{name}"] = np.asarray(typed, dtype=bool)
                id_flags.add(name)
            if not name.startswith(("_dup_", "_unnamed_")):
                described.append((name, texts, sql.header_of.get(name, ""), kind))
            arrays[name] = np.asarray(texts, dtype=object)
        batch.clear()
        chunk_sql = sql.for_chunk(chunk_features(described), frozenset(id_flags))
        con = self.con
        con.register("chunk", arrays)
        try:
            con.execute(chunk_sql.stage)
            found = con.execute(chunk_sql.counts).fetchall()
            loaded = sum(n for _, status, n, _ in found if status == "loaded")
            quarantined = sum(n for _, status, n, _ in found if status == "quarantined")
            flagged = sum(f for _, status, _, f in found if status == "loaded")
            part = len(self.result.row_parts) + len(self.result.quarantine_parts)
            if loaded:
                path = str(self.out_dir / f"rows-{part:05d}.parquet")
                con.execute(f"copy ({chunk_sql.rows}) to {lit(path)} (format parquet, compression lz4)")
                self.result.row_parts.append(path)
            if flagged or quarantined:
                path = str(self.out_dir / f"quarantine-{part:05d}.parquet")
                written = con.execute(
                    f"copy ({chunk_sql.quarantine}) to {lit(path)} (format parquet)"
                ).fetchone()[0]
                self.result.quarantine_parts.append(path)
                self.result.cells_quarantined += written - quarantined
            if chunk_sql.unnamed_counts:
                for sheet_name, *counts in con.execute(chunk_sql.unnamed_counts).fetchall():
                    previous = batch.unnamed_counts.get(sheet_name, [0] * len(counts))
                    batch.unnamed_counts[sheet_name] = [a + b for a, b in zip(previous, counts, strict=True)]
        finally:
            con.unregister("chunk")
        for sheet_name, status, n, _ in found:
            summary = self.summaries[sheet_name]
            if status == "loaded":
                summary.rows_loaded += n
            elif status == "quarantined":
                summary.rows_quarantined += n
            else:  # blank / total / header
                summary.rows_skipped += n
                self.result.skipped[status] += n


@dataclass
class _Batch:
    """Rows of one or more sheets with the same column layout, waiting for one DuckDB pass."""

    sql: SheetSql
    picks: list[int]  # physical columns taken from each row, in the chunk's column order
    rows: list[tuple] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    segments: list[tuple[str, str, int]] = field(default_factory=list)  # (sheet, title, rows) in order
    where: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet → (header row, first column)
    unnamed_counts: dict[str, list[int]] = field(default_factory=dict)  # sheet → cells per unnamed column

    def add_sheet(self, sheet: str, title: str, rows: int) -> None:
        if rows:
            self.segments.append((sheet, title, rows))

    def sheet_of_row(self) -> list[str]:
        return list(itertools.chain.from_iterable([sheet] * n for sheet, _, n in self.segments))

    def title_of_row(self) -> list[str]:
        return list(itertools.chain.from_iterable([title] * n for _, title, n in self.segments))

    def clear(self) -> None:
        self.rows, self.numbers, self.segments = [], [], []


def _is_empty(row: list) -> bool:
    return row.count("") == len(row)


def _is_numbering_row(row: list) -> bool:
    texts = [cell_text(v) for v in row if v != ""]
    numbers = [int(t) for t in texts if t.isdigit()]
    others = [t for t in texts if not t.isdigit()]
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
        if t is str:
            return v
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

    texts = [text(v) for v in values]
    flags = None
    if kind == "id_number" and (float in types or int in types):
        flags = [type(v) in (float, int) for v in values]
    return texts, flags
