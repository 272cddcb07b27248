"""The Great Expectations suites of expectations/ as Dagster asset checks.

- Per source (``expectations/<source>.json``, ``meta.asset_key`` = ``raw/<source>``): one
  blocking check on the ingest asset. It validates the raw table as it arrived. It fails with
  ERROR — and so stops dbt, the marts and the reports — only when a *critical* expectation fails:
  the same sheet row loaded twice, which would make every count in the marts double. Every
  other rule (ID format, enumerations, ranges, dates) is a *warning*: those rows are exactly
  what dq.findings and the city reports exist to show, so they must flow on.
- Per reconciliation (``reconcile_*.json``) and for ``dq.findings`` (``findings.json``): one
  multi-check step after dbt. Its checks are blocking so that the reports and the analysts'
  snapshot wait for them (and for their rows in dq.validation_runs), but they fail with WARN
  on the rules themselves: a failed check never hides a finding. ERROR is kept for what must not
  be published: an ID-number-shaped value in dq.findings, or a reconciliation whose key repeats.

What still blocks, and why (data never does; only a broken warehouse or personal data):
- ``critical`` in a raw suite: a sheet row loaded twice (the ingest is broken, counts double);
- ``critical`` in a reconciliation suite: its key repeats (the model is broken); NULL county or
  year there is data and only warns;
- ``critical`` in findings.json: a check name outside catalog.CHECKS or a severity other than
  error/warning (code and contract disagree), an ID-number-shaped value in detail, entity_key
  or source_file (personal data about to be published). A NULL detail or entity_key and a
  repeated finding_key are data and only warn, so the reports and the snapshot go out;
- a suite that cannot run warns (``failed_to_run``).
Error-severity dbt tests fail the dbt step; see docs/defects.md "What blocks publication".

Each result goes to dq.validation_runs and to the check's metadata: counts per expectation and
a few example rows, personal columns masked (IDs: first 6 and last 4 characters).
"""

from collections.abc import Iterator

import dagster as dg
import duckdb
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.lib.quality.suites import suite_meta, suite_names
from orchestration.lib.quality.validation_runs import append_run, outcome_of
from orchestration.resources import WarehouseResource

OWNERS = ["team:data-quality"]
EXAMPLE_ROWS = 10


def check_name(suite: str) -> str:
    return f"gx_{suite}"


def suites_by_layer() -> tuple[list[str], list[str]]:
    """(suites on raw/<source>, suites on dq models), from each suite's meta.asset_key."""
    raw, dq = [], []
    for name in suite_names():
        layer = suite_meta(name)["asset_key"][0]
        (raw if layer == "raw" else dq).append(name)
    return raw, dq


def data_month(context: dg.AssetCheckExecutionContext) -> str | None:
    """The month (or range) the run was started for, so results line up with the reports."""
    tags = context.run.tags
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return f"{start}..{end}" if start and end else None


def _markdown_table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def result_metadata(run) -> dict[str, dg.MetadataValue | int | float | str]:
    outcomes = [
        [
            "✅" if o.success else ("⛔" if o.is_critical and o.error is None else "⚠️"),
            o.expectation_type.removeprefix("expect_"),
            ", ".join(o.columns),
            o.severity,
            o.unexpected_count,
            o.description,
            o.error or "",
        ]
        for o in run.outcomes
    ]
    examples = [
        [o.expectation_type.removeprefix("expect_"), ", ".join(f"{k}={v}" for k, v in example.items())]
        for o in run.failed
        for example in o.examples
    ][:EXAMPLE_ROWS]
    metadata: dict[str, dg.MetadataValue | int | float | str] = {
        "suite": dg.MetadataValue.path(f"expectations/{run.suite}.json"),
        "relation": run.relation,
        "outcome": outcome_of(run),
        "rows_validated": run.rows,
        "expectations_evaluated": run.evaluated,
        "expectations_failed": len(run.failed),
        "expectations_failed_critical": len(run.failed_critical),
        "unexpected_rows": run.unexpected_total,
        "seconds": round(run.seconds, 2),
        "expectations": dg.MetadataValue.md(
            _markdown_table(
                ["", "expectation", "columns", "severity", "unexpected", "rule", "error"], outcomes
            )
        ),
    }
    if examples:
        metadata["examples"] = dg.MetadataValue.md(_markdown_table(["expectation", "row (masked)"], examples))
    return metadata


def findings_summary(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue | int]:
    """What dq.findings holds, by check: the counts a failed check must never hide."""
    rows = con.execute(
        "select check_name, any_value(check_title_zh), severity, count(*), count(distinct county_code) "
        "from dq.findings group by check_name, severity order by min(check_order)"
    ).fetchall()
    return {
        "findings": sum(r[3] for r in rows),
        "findings_error": sum(r[3] for r in rows if r[2] == "error"),
        "findings_by_check": dg.MetadataValue.md(
            _markdown_table(["check", "检查项", "severity", "findings", "counties"], [list(r) for r in rows])
        ),
    }


def evaluate(
    suite: str,
    asset_key: dg.AssetKey,
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Run one suite on the warehouse, append it to dq.validation_runs, turn it into a check result."""
    from orchestration.lib.quality.gx_runner import load_suite, run_suite  # GX loads in seconds: only here

    with warehouse.get_connection() as con:
        run = run_suite(con, load_suite(suite))
        append_run(
            con,
            run,
            run_id=context.run.run_id,
            asset_key=asset_key.to_user_string(),
            data_month=data_month(context),
        )
        extra = findings_summary(con) if run.relation == "dq.findings" else {}
    outcome = outcome_of(run)
    context.log.info(
        f"{suite}: {outcome}, {run.rows:,} rows, {len(run.failed)}/{run.evaluated} expectations failed, "
        f"{run.unexpected_total:,} unexpected values, {run.seconds:.1f} s"
    )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name(suite),
        passed=run.success,
        severity=dg.AssetCheckSeverity.ERROR if outcome == "error" else dg.AssetCheckSeverity.WARN,
        metadata={**result_metadata(run), **extra},
    )


def failed_to_run(suite: str, asset_key: dg.AssetKey, error: Exception) -> dg.AssetCheckResult:
    """GX or the warehouse failed: say so as a warning rather than stop the reports."""
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name(suite),
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"error": dg.MetadataValue.text(f"{type(error).__name__}: {error}"[:2000])},
    )


def suite_asset_key(suite: str) -> dg.AssetKey:
    return dg.AssetKey(suite_meta(suite)["asset_key"])


def _description(suite: str) -> str:
    meta = suite_meta(suite)
    title = meta.get("title_zh", suite)
    return f"{title} — Great Expectations suite expectations/{suite}.json on {meta['relation']}."


def raw_source_check(suite: str) -> dg.AssetChecksDefinition:
    asset_key = suite_asset_key(suite)

    @dg.asset_check(
        asset=asset_key,
        name=check_name(suite),
        blocking=True,
        description=_description(suite),
        metadata={"owners": OWNERS},
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        try:
            return evaluate(suite, asset_key, context, warehouse)
        except Exception as error:  # noqa: BLE001 - a broken validator must not stop the pipeline
            context.log.exception(f"suite {suite} could not run")
            return failed_to_run(suite, asset_key, error)

    return _check


RAW_SUITES, DQ_SUITES = suites_by_layer()

raw_source_checks = [raw_source_check(suite) for suite in RAW_SUITES]


@dg.multi_asset_check(
    name="gx_reconciliations",
    specs=[
        dg.AssetCheckSpec(
            check_name(suite), asset=suite_asset_key(suite), blocking=True, description=_description(suite)
        )
        for suite in DQ_SUITES
    ],
    can_subset=True,
    description="Great Expectations suites on the dq reconciliation models and dq.findings.",
)
def reconciliation_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.name for key in context.selected_asset_check_keys}
    for suite in DQ_SUITES:
        if check_name(suite) not in selected:
            continue
        asset_key = suite_asset_key(suite)
        try:
            yield evaluate(suite, asset_key, context, warehouse)
        except Exception as error:  # noqa: BLE001 - a broken validator must not hide the findings
            context.log.exception(f"suite {suite} could not run")
            yield failed_to_run(suite, asset_key, error)
