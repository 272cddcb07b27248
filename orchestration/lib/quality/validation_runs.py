"""``dq.validation_runs``: one row per suite per run, appended, so results can be followed over months.

No examples and no values are stored here (they may be personal): only counts, and per
expectation its type, columns, severity, success and unexpected count as JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from orchestration.lib.quality.comments import comment_table

if TYPE_CHECKING:  # Great Expectations is imported only when a suite runs
    from orchestration.lib.quality.gx_runner import SuiteRun

DDL = """
create table if not exists dq.validation_runs (
    run_id varchar not null,
    suite varchar not null,
    asset_key varchar not null,
    relation varchar not null,
    validated_at timestamp with time zone not null,
    data_month varchar,
    passed boolean not null,
    outcome varchar not null,
    rows_validated bigint not null,
    evaluated_expectations integer not null,
    failed_expectations integer not null,
    failed_critical_expectations integer not null,
    unexpected_count bigint not null,
    seconds double not null,
    great_expectations_version varchar not null,
    expectations_json varchar not null
)
"""

# Comments of the table and its columns (dbt documents the other dq tables; this one is written
# here): the analysts' snapshot carries them, English with the Chinese term.
TABLE_COMMENT = (
    "数据质量校验记录 One row per Great Expectations suite per run (expectations/*.json), appended: "
    "counts and outcome only, never the values checked."
)
COLUMN_COMMENTS = {
    "run_id": "Dagster run that validated (运行编号).",
    "suite": "Great Expectations suite (校验套件), a file of expectations/.",
    "asset_key": "Dagster asset the suite checks (资产键).",
    "relation": "Warehouse table validated, schema.table (校验的表).",
    "validated_at": "When the suite ran (校验时间).",
    "data_month": "Month of data validated, YYYY-MM, for monthly suites; null otherwise (数据月份).",
    "passed": "Every expectation met (是否通过).",
    "outcome": "pass, warn or error; error only when a critical expectation fails (校验结果).",
    "rows_validated": "Rows in the table validated (校验行数).",
    "evaluated_expectations": "Expectations evaluated (校验规则数).",
    "failed_expectations": "Expectations not met (未通过规则数).",
    "failed_critical_expectations": "Critical expectations not met (未通过关键规则数).",
    "unexpected_count": "Values that broke an expectation, over all expectations (异常值数).",
    "seconds": "Time the suite took, in seconds (耗时秒数).",
    "great_expectations_version": "Great Expectations version that ran it (GX 版本).",
    "expectations_json": "Per expectation: type, columns, severity, success and counts, as JSON (规则明细).",
}


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    con.execute(DDL)
    comment_table(con, "dq.validation_runs", TABLE_COMMENT, COLUMN_COMMENTS)


def outcome_of(run: SuiteRun) -> str:
    """pass | warn | error: error only when a critical expectation fails (GX itself failing is warn)."""
    if run.success:
        return "pass"
    return "error" if any(o.error is None for o in run.failed_critical) else "warn"


def expectations_json(run: SuiteRun) -> str:
    return json.dumps(
        [
            {
                "type": o.expectation_type,
                "columns": list(o.columns),
                "severity": o.severity,
                "success": o.success,
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "error": o.error,
            }
            for o in run.outcomes
        ],
        ensure_ascii=False,
    )


def append_run(
    con: duckdb.DuckDBPyConnection,
    run: SuiteRun,
    *,
    run_id: str,
    asset_key: str,
    data_month: str | None = None,
    validated_at: datetime | None = None,
) -> None:
    import great_expectations as gx

    ensure_table(con)
    con.execute(
        "insert into dq.validation_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            run.suite,
            asset_key,
            run.relation,
            validated_at or datetime.now(UTC),
            data_month,
            run.success,
            outcome_of(run),
            run.rows,
            run.evaluated,
            len(run.failed),
            len(run.failed_critical),
            run.unexpected_total,
            round(run.seconds, 3),
            gx.__version__,
            expectations_json(run),
        ],
    )
