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
validates each chunk; counts are summed. Expectations that need the whole column at once
(uniqueness, row counts) get one fetch of just their columns. Memory stays bounded by the chunk.

No network: GX_ANALYTICS_ENABLED=false is set before GX is imported, and the context is
ephemeral, in memory, with analytics off, no Data Docs site and no progress bars.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

os.environ["GX_ANALYTICS_ENABLED"] = "false"

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

from orchestration.defs.quality.masking import mask_id, mask_value  # noqa: E402, F401
from orchestration.defs.quality.suites import suite_names, suite_path  # noqa: E402, F401
from orchestration.resources import EXPECTATIONS_DIR  # noqa: E402

CHUNK_ROWS = 200_000
EXAMPLES = 5  # unexpected rows kept per expectation, for the Dagster UI

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

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"


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
            severity=e.get("severity", "critical"),
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
    row_wise, whole = [], []
    for i, config in enumerate(configs):
        missing = [c for c in expectation_columns(config.kwargs) if c not in present]
        if missing:
            tallies[i].success = False
            tallies[i].error = f"column(s) {missing} not in {relation}"
        elif config.type in ROW_WISE:
            row_wise.append(i)
        else:
            whole.append(i)

    if row_wise:
        columns = list(
            dict.fromkeys(
                index_columns + [c for i in row_wise for c in expectation_columns(configs[i].kwargs)]
            )
        )
        select = f"select {_select_list(columns, column_types)} from {relation}"
        # one query read in chunks (DuckDB keeps the table's insertion order, so the examples are
        # the same on every run); each chunk is let go before the next one is fetched
        cursor = con.execute(select)
        part = 0
        while True:
            frame = cursor.fetch_df_chunk(max(1, chunk_rows // 2048))
            if part > 0 and frame.empty:
                break
            results = _validate(frame, [configs[i] for i in row_wise], index_columns)
            del frame
            for i, result in zip(row_wise, results, strict=True):
                _tally(tallies[i], result, personal)
            del results
            gc.collect()  # GX's context, batch and validator hold each other in cycles: free the chunk now
            part += 1
        for i in row_wise:
            _apply_mostly(tallies[i], configs[i])
    for i in whole:
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
        )
        for config, tally in zip(configs, tallies, strict=True)
    )
    return SuiteRun(suite.name, relation, int(rows), time.perf_counter() - started, outcomes)
