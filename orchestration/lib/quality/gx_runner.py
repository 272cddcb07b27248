"""Great Expectations 1.x behind one small interface: run a JSON suite against a DuckDB table.

Why pandas DataFrames fetched from DuckDB and not GX's SQL datasource (measured with GX 1.24.1,
duckdb 1.5.5, duckdb-engine 0.17 on 2 million rows; see expectations/README.md):

- The SQL datasource through duckdb-engine fails every expectation ("list index out of range",
  GX issues 10738 and 11579): GX reads results after handing the connection back to the pool.
  Adding DuckDB to GX's private list of persisted-connection dialects makes it run (0.3 s for
  eight expectations), but regex expectations then fail ("Regex is not supported for dialect
  duckdb") — and the ID-number format is the rule we need most —, table assets with a schema
  are not found, and GX's engine holds the warehouse file open, so our own writer cannot
  connect while the context lives. It also needs duckdb-engine, one more dependency.
- pandas: fetching the ten columns 1.3–1.7 s, validating eight expectations 2.2 s, peak RSS
  1.3 GB. Every expectation type works except ``UnexpectedRowsExpectation`` (SQL only); the
  cross-source rules it would express live in dbt (models/dq/reconcile_*), and the suites
  validate those models' columns instead.

So: the runner fetches only the columns a suite names (cast as the suite's ``meta.column_types``
says), in chunks of ``CHUNK_ROWS`` rows for the expectations that judge row by row, and GX
validates each chunk; counts are summed. Uniqueness is not judged by GX: it needs the whole
key at once (a 4-million-row key in pandas was the 2 GB peak at province scale, 18 GB at 10×), so
DuckDB counts the rows whose key repeats (``group by … having count(*) > 1`` on the keys' hashes,
then on the keys themselves if a hash repeats) and the runner hands back a result in GX's shape.
Row counts are judged by GX on a frame with no column. DuckDB runs under a memory limit for the
suite (``DUCKDB_MEMORY_MIB``: its cache of table blocks and its aggregates would otherwise grow
with the table). Memory stays bounded by the chunk: the household suite peaked at 0.83 GB on
4.17 M rows and 0.98 GB on 41.7 M.

Two costs of GX that buy us nothing are switched off (measured on the province's 4.17 M
household rows, about half of GX's CPU): GX fingerprints every pandas batch it loads by hashing
the whole frame, twice per chunk (``HASH_THRESHOLD``; the fingerprint is only a batch marker),
and the ``gc.collect()`` that frees each chunk's context would scan every object GX's import made
(``gc.freeze()`` sets those aside for the run).

No network: GX_ANALYTICS_ENABLED=false is set before GX is imported, and the context is
ephemeral, in memory, with analytics off, no Data Docs site and no progress bars.
"""

from __future__ import annotations

import gc
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ["GX_ANALYTICS_ENABLED"] = "false"

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: E402
from great_expectations.core.expectation_validation_result import ExpectationValidationResult  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

from orchestration.lib.quality.masking import mask_id, mask_value  # noqa: E402, F401
from orchestration.lib.quality.suites import expectation_severity, suite_names, suite_path  # noqa: E402, F401
from orchestration.settings import EXPECTATIONS_DIR  # noqa: E402

# GX hashes every pandas batch below this many bytes of memory into a fingerprint it only
# keeps as a batch marker: a third of the household suite's CPU. Zero: never.
pandas_execution_engine.HASH_THRESHOLD = 0

CHUNK_ROWS = 200_000
EXAMPLES = 5  # unexpected rows kept per expectation, for the Dagster UI
# DuckDB's memory while a suite runs. Left alone it keeps every block of the table it has read
# (up to 80 % of the machine) and counts repeated keys in memory; under the limit it evicts the
# blocks and spills the counting to its temp directory, so memory does not grow with the table.
DUCKDB_MEMORY_MIB = 256
# the column that carries a table row's rowid through GX, to look its index columns up afterwards
ROW_POSITION = "__rowid"

# Expectations that judge each row on its own: a chunked validation sums to the whole table's.
ROW_WISE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
    }
)
# Uniqueness, counted by DuckDB (see _uniqueness_result); other kwargs (a row_condition, say)
# fall back to GX on the whole columns.
UNIQUENESS = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})
UNIQUENESS_KWARGS = frozenset({"column", "column_list", "mostly", "ignore_row_if"})
IGNORE_ROW_IF = frozenset({"all_values_are_missing", "any_value_is_missing", "never"})
# Judged by GX on the row count alone: a frame of that many rows and no column.
ROW_COUNT = frozenset({"expect_table_row_count_to_equal", "expect_table_row_count_to_be_between"})


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation_type: str
    columns: tuple[str, ...]
    description: str
    severity: str  # critical | warning | info (GX's own field)
    success: bool
    element_count: int
    unexpected_count: int
    examples: tuple[dict, ...] = ()
    error: str | None = None
    missing_count: int = 0  # rows GX leaves out (a null value): not judged

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"

    @property
    def unexpected_percent(self) -> float | None:
        """GX's ``unexpected_percent``: of the rows judged, not of all rows."""
        judged = self.element_count - self.missing_count
        return self.unexpected_count / judged * 100 if judged > 0 else None


@dataclass(frozen=True)
class SuiteRun:
    suite: str
    relation: str
    rows: int
    seconds: float
    outcomes: tuple[ExpectationOutcome, ...] = field(default_factory=tuple)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def evaluated(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def failed_critical(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.failed if o.is_critical)

    @property
    def unexpected_total(self) -> int:
        return sum(o.unexpected_count for o in self.outcomes)


# ---------------------------------------------------------------------------------------------
# suites


def load_suite(name: str, directory: Path = EXPECTATIONS_DIR) -> ExpectationSuite:
    """A suite from ``expectations/<name>.json`` (the format of ``ExpectationSuite.to_json_dict``)."""
    data = json.loads(suite_path(name, directory).read_text(encoding="utf-8"))
    expectations = [
        ExpectationConfiguration(
            type=e["type"],
            kwargs=e["kwargs"],
            meta=e.get("meta") or {},
            description=e.get("description"),
            severity=expectation_severity(e),
        )
        for e in data["expectations"]
    ]
    return ExpectationSuite(name=data["name"], expectations=expectations, meta=data.get("meta") or {})


def expectation_columns(kwargs: dict) -> tuple[str, ...]:
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += list(kwargs.get("column_list") or [])
    return tuple(columns)


def ephemeral_context():
    """An in-memory GX context: no files, no Data Docs, no analytics, no progress bars."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _plain(value: object) -> object:
    """JSON-friendly scalars (numpy and pandas types to Python)."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------
# running


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select_list(columns: Iterable[str], column_types: dict[str, str]) -> str:
    parts = []
    for column in columns:
        cast_to = column_types.get(column)
        parts.append(
            f"try_cast({_quote(column)} as {cast_to}) as {_quote(column)}" if cast_to else _quote(column)
        )
    return ", ".join(parts)


def _relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    schema, _, table = relation.rpartition(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema or "main", table],
    ).fetchall()
    return [r[0] for r in rows]


def _is_table(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """A base table has a ``rowid`` (a view has not)."""
    schema, _, table = relation.rpartition(".")
    found = con.execute(
        "select 1 from information_schema.tables "
        "where table_schema = ? and table_name = ? and table_type = 'BASE TABLE'",
        [schema or "main", table],
    ).fetchone()
    return found is not None


@dataclass
class _Tally:
    element_count: int = 0
    unexpected_count: int = 0
    missing_count: int = 0
    success: bool = True
    examples: list = field(default_factory=list)
    error: str | None = None


def _validate(frame, expectations: list[ExpectationConfiguration], index_columns: list[str]):
    """Results in the order of ``expectations`` (GX returns them in an order of its own).

    A fresh context per frame: a context keeps every batch it loaded, and with it the frame.
    """
    context = ephemeral_context()
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    tagged = [
        ExpectationConfiguration(
            type=e.type, kwargs=e.kwargs, meta={**(e.meta or {}), "runner_position": n}, severity=e.severity
        )
        for n, e in enumerate(expectations)
    ]
    suite = ExpectationSuite(name="part", expectations=tagged)
    result_format = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": EXAMPLES,
        "unexpected_index_column_names": index_columns,
        "return_unexpected_index_query": False,
    }
    results = batch.validate(suite, result_format=result_format).results
    return sorted(results, key=lambda r: r.expectation_config.meta["runner_position"])


def _validate_in_chunks(
    con: duckdb.DuckDBPyConnection,
    select: str,
    expectations: list[ExpectationConfiguration],
    index_columns: list[str],
    chunk_rows: int,
) -> Iterator[list]:
    """GX's results for each chunk of ``select``, in the order of ``expectations``.

    One query read in chunks (DuckDB keeps the table's insertion order, so the examples are the
    same on every run); each chunk is let go before the next one is fetched.
    """
    cursor = con.execute(select)
    gc.collect()
    gc.freeze()  # what exists now (GX's modules, the suite) outlives the run: no need to scan it per chunk
    try:
        part = 0
        while True:
            frame = cursor.fetch_df_chunk(max(1, chunk_rows // 2048))  # DuckDB counts in 2048-row vectors
            if part > 0 and frame.empty:
                break
            results = _validate(frame, expectations, index_columns)
            del frame
            yield results
            del results
            gc.collect()  # GX's context, batch and validator hold each other in cycles: free the chunk now
            part += 1
    finally:
        gc.unfreeze()


def _tally(tally: _Tally, result, personal: set[str]) -> None:
    body = result.result or {}
    info = result.exception_info or {}
    errors = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    if info.get("raised_exception"):
        errors.append(info)
    if errors:
        tally.error = str(errors[0].get("exception_message"))[:500]
        tally.success = False
        return
    tally.success = tally.success and bool(result.success)
    tally.element_count += int(body.get("element_count") or 0)
    tally.unexpected_count += int(body.get("unexpected_count") or 0)
    tally.missing_count += int(body.get("missing_count") or 0)
    if body.get("observed_value") is not None and "unexpected_count" not in body and not result.success:
        # table-level expectations (row counts) report an observed value, not unexpected rows
        tally.unexpected_count += 1
        tally.examples.append({"observed_value": _plain(body["observed_value"])})
    for row in (body.get("partial_unexpected_index_list") or [])[: EXAMPLES - len(tally.examples)]:
        if isinstance(row, dict):
            tally.examples.append({k: mask_value(k, _plain(v), personal) for k, v in row.items()})


def _run_row_wise(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    configs: list[ExpectationConfiguration],
    tallies: list[_Tally],
    *,
    column_types: dict[str, str],
    index_columns: list[str],
    personal: set[str],
    chunk_rows: int,
) -> None:
    """GX on the table chunk by chunk, counts summed into ``tallies``.

    On a table the chunks carry the row's ``rowid`` rather than the index columns (file and sheet
    names are long strings: about a fifth of the fetching and of the chunk's memory on the
    household sheets), and the few example rows are looked up by it afterwards.
    """
    by_position = bool(index_columns) and _is_table(con, relation)
    frame_index = [ROW_POSITION] if by_position else index_columns
    columns = list(
        dict.fromkeys(
            ([] if by_position else index_columns)
            + [c for cfg in configs for c in expectation_columns(cfg.kwargs)]
        )
    )
    position = f"rowid as {_quote(ROW_POSITION)}, " if by_position else ""
    select = f"select {position}{_select_list(columns, column_types)} from {relation}"
    for results in _validate_in_chunks(con, select, configs, frame_index, chunk_rows):
        for tally, result in zip(tallies, results, strict=True):
            _tally(tally, result, personal)
    for tally, config in zip(tallies, configs, strict=True):
        _apply_mostly(tally, config)
    if by_position:
        _locate_examples(
            con, relation, tallies, column_types=column_types, index_columns=index_columns, personal=personal
        )


def _locate_examples(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    tallies: list[_Tally],
    *,
    column_types: dict[str, str],
    index_columns: list[str],
    personal: set[str],
) -> None:
    """Examples that hold a ``rowid`` get the row's index columns (masked) in its place."""
    positions = sorted({e[ROW_POSITION] for t in tallies for e in t.examples if ROW_POSITION in e})
    if not positions:
        return
    cursor = con.execute(
        f"select rowid, {_select_list(index_columns, column_types)} from {relation} "
        f"where rowid in ({', '.join(str(int(p)) for p in positions)})"
    )
    located = {
        row[0]: {c: mask_value(c, _plain(v), personal) for c, v in zip(index_columns, row[1:], strict=True)}
        for row in cursor.fetchall()
    }
    for tally in tallies:
        tally.examples = [
            {k: v for k, v in e.items() if k != ROW_POSITION} | located.get(e.get(ROW_POSITION), {})
            for e in tally.examples
        ]


def _apply_mostly(tally: _Tally, config: ExpectationConfiguration) -> None:
    """Success over the whole table when an expectation allows a share of bad rows (``mostly``):
    a chunk may fall short while the table does not."""
    mostly = config.kwargs.get("mostly")
    if mostly is None or tally.error is not None:
        return
    judged = tally.element_count
    if config.type != "expect_column_values_to_not_be_null":
        judged -= tally.missing_count
    tally.success = judged == 0 or tally.unexpected_count / judged <= 1 - float(mostly)


# ---------------------------------------------------------------------------------------------
# DuckDB's part: its memory while a suite runs, and uniqueness


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, mib: int) -> Iterator[None]:
    """DuckDB's memory limit lowered to ``mib`` for a while (it is the database's, not the
    connection's), and given back. DuckDB shows the limit rounded down to one decimal: it is given
    back as the middle of that rounding step, so repeated runs do not drift."""
    (shown,) = con.execute("select current_setting('memory_limit')").fetchone()
    match = re.fullmatch(r"([\d.]+) ?(bytes|KiB|MiB|GiB|TiB|KB|MB|GB|TB)", str(shown).strip())
    units = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
    units |= {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
    lowered = match is not None and float(match[1]) * units[match[2]] > mib * 2**20
    if lowered:
        try:
            con.execute(f"set memory_limit = '{mib}MiB'")
        except duckdb.Error:  # DuckDB holds more than that and cannot let it go: run as it is
            lowered = False
    try:
        yield
    finally:
        if lowered:
            step = 0 if match[2] == "bytes" else 0.05
            con.execute(f"set memory_limit = '{float(match[1]) + step}{match[2]}'")


def _judged_rows(kind: str, keys: list[str], ignore_row_if: str) -> str:
    """GX's filter before it judges a row: a null value is missing, not a duplicate."""
    nulls = [f"{_quote(k)} is null" for k in keys]
    if kind == "expect_column_values_to_be_unique":
        return f"not ({nulls[0]})"
    return {
        "all_values_are_missing": f"not ({' and '.join(nulls)})",
        "any_value_is_missing": f"not ({' or '.join(nulls)})",
        "never": "true",
    }[ignore_row_if]


def _uniqueness_result(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    config: ExpectationConfiguration,
    column_types: dict[str, str],
    index_columns: list[str],
    rows: int,
) -> ExpectationValidationResult:
    """What GX's ``expect_column_values_to_be_unique`` / ``expect_compound_columns_to_be_unique``
    say on pandas (every row whose key occurs more than once is unexpected; rows with a missing
    key are left out), counted by DuckDB and given back as GX's result.

    First the hashes of the keys (8 bytes a key, quick to count and little to spill); only when a
    hash repeats, the keys themselves. DuckDB's aggregates spill to disk under the memory limit
    (its hash joins do not always: a join on millions of repeated keys ran out of 256 MiB). The
    examples are the rows of the first repeated keys in key order (copies side by side).
    """
    kwargs = config.kwargs
    keys = list(expectation_columns(kwargs))
    judged = _judged_rows(config.type, keys, kwargs.get("ignore_row_if") or "all_values_are_missing")
    key_list = ", ".join(_quote(k) for k in keys)
    keyed = f"(select {_select_list(keys, column_types)} from {relation}) as keyed"
    # one pass over the key hashes: the rows judged, and whether any hash repeats (the usual answer
    # is no, and then no key repeats)
    hashes = (
        f"select hash({key_list}) as key_hash, count(*) as copies from {keyed} where {judged} group by all"
    )
    judged_count, repeated_hashes = con.execute(
        f"select coalesce(sum(copies), 0), count(*) filter (where copies > 1) from ({hashes})"
    ).fetchone()
    unexpected = 0
    if repeated_hashes:  # the keys themselves, so that a hash collision is not taken for a duplicate
        repeated = (
            f"select {key_list}, count(*) as copies from {keyed} where {judged} "
            "group by all having count(*) > 1"
        )
        (unexpected,) = con.execute(f"select coalesce(sum(copies), 0) from ({repeated})").fetchone()
    examples = []
    if unexpected:
        columns = list(dict.fromkeys(index_columns + keys))
        same_key = " and ".join(
            f"example.{_quote(k)} is not distinct from repeated.{_quote(k)}" for k in keys
        )
        order = ", ".join(f"example.{_quote(c)}" for c in keys + [c for c in columns if c not in keys])
        cursor = con.execute(
            f"""
            with repeated as ({repeated}),
            first_repeated as (
                select {key_list} from repeated order by {key_list} limit {EXAMPLES}
            )
            select example.*
            from (select {_select_list(columns, column_types)} from {relation}) as example
            semi join first_repeated as repeated on {same_key}
            order by {order}
            limit {EXAMPLES}
            """
        )
        names = [d[0] for d in cursor.description]
        examples = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    judged_count, unexpected = int(judged_count), int(unexpected)
    mostly = float(kwargs.get("mostly", 1.0))
    # GX: vacuously true when no row is judged
    success = judged_count == 0 or (judged_count - unexpected) / judged_count >= mostly
    missing = rows - judged_count
    result = {
        "element_count": rows,
        "unexpected_count": unexpected,
        "unexpected_percent": unexpected / judged_count * 100 if judged_count else None,
        "partial_unexpected_list": [
            e[keys[0]] if config.type == "expect_column_values_to_be_unique" else {k: e[k] for k in keys}
            for e in examples
        ],
        "unexpected_index_column_names": index_columns,
        "missing_count": missing,
        "missing_percent": missing / rows * 100 if rows else None,
        "unexpected_percent_total": unexpected / rows * 100 if rows else None,
        "unexpected_percent_nonmissing": unexpected / judged_count * 100 if judged_count else None,
        "partial_unexpected_index_list": examples,
    }
    return ExpectationValidationResult(
        success=success,
        expectation_config=config,
        result=result,
        exception_info={"raised_exception": False, "exception_message": None, "exception_traceback": None},
    )


def _counted_by_duckdb(config: ExpectationConfiguration) -> bool:
    kwargs = config.kwargs
    return (
        config.type in UNIQUENESS
        and set(kwargs) <= UNIQUENESS_KWARGS
        and isinstance(kwargs.get("mostly", 1.0), (int, float))  # not a suite parameter
        and kwargs.get("ignore_row_if", "all_values_are_missing") in IGNORE_ROW_IF
    )


def run_suite(
    con: duckdb.DuckDBPyConnection,
    suite: ExpectationSuite,
    relation: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> SuiteRun:
    """Validate ``relation`` (default: the suite's ``meta.relation``) with ``suite``.

    The caller owns the connection (read-only is enough). A failure of GX itself on one
    expectation is recorded on that expectation (``error``) and counts as failed.
    """
    started = time.perf_counter()
    meta = suite.meta or {}
    relation = relation or meta["relation"]
    column_types: dict[str, str] = meta.get("column_types") or {}
    personal = set(meta.get("personal_columns") or [])
    present = set(_relation_columns(con, relation))
    index_columns = [c for c in meta.get("index_columns") or [] if c in present]
    configs = [e.configuration for e in suite.expectations]
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()

    tallies = [_Tally() for _ in configs]
    with _memory_limit(con, DUCKDB_MEMORY_MIB):
        row_wise, by_duckdb, row_count, whole = [], [], [], []
        for i, config in enumerate(configs):
            missing = [c for c in expectation_columns(config.kwargs) if c not in present]
            if missing:
                tallies[i].success = False
                tallies[i].error = f"column(s) {missing} not in {relation}"
            elif config.type in ROW_WISE:
                row_wise.append(i)
            elif _counted_by_duckdb(config):
                by_duckdb.append(i)
            elif config.type in ROW_COUNT:
                row_count.append(i)
            else:
                whole.append(i)

        if row_wise:
            _run_row_wise(
                con,
                relation,
                [configs[i] for i in row_wise],
                [tallies[i] for i in row_wise],
                column_types=column_types,
                index_columns=index_columns,
                personal=personal,
                chunk_rows=chunk_rows,
            )
        for i in by_duckdb:
            try:
                result = _uniqueness_result(con, relation, configs[i], column_types, index_columns, int(rows))
            except duckdb.Error as error:  # recorded on the expectation, as GX records its own failures
                tallies[i].success, tallies[i].error = False, f"DuckDB: {error}"[:500]
                continue
            _tally(tallies[i], result, personal)
        if row_count:
            no_columns = pd.DataFrame(index=pd.RangeIndex(int(rows)))
            for i, result in zip(
                row_count, _validate(no_columns, [configs[i] for i in row_count], []), strict=True
            ):
                _tally(tallies[i], result, personal)
        for i in whole:  # any other expectation: its columns, whole (none of our suites has one)
            columns = list(dict.fromkeys(index_columns + list(expectation_columns(configs[i].kwargs))))
            select = f"select {_select_list(columns, column_types) or '1 as one'} from {relation}"
            frame = con.execute(select).df()
            (result,) = _validate(frame, [configs[i]], index_columns)
            _tally(tallies[i], result, personal)

    outcomes = tuple(
        ExpectationOutcome(
            expectation_type=config.type,
            columns=expectation_columns(config.kwargs),
            description=config.description or "",
            severity=str(getattr(config.severity, "value", config.severity) or "critical"),
            success=tally.success and tally.error is None,
            element_count=tally.element_count,
            unexpected_count=tally.unexpected_count,
            examples=tuple(tally.examples),
            error=tally.error,
            missing_count=tally.missing_count,
        )
        for config, tally in zip(configs, tallies, strict=True)
    )
    return SuiteRun(suite.name, relation, int(rows), time.perf_counter() - started, outcomes)
