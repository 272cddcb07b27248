"""The Great Expectations suites of expectations/ as Dagster asset checks, two per suite.

Each suite runs once (one step) and gives two checks, so that what Dagster labels blocking is what
blocks:
- ``gx_<suite>_critical`` (blocking): the suite's *critical* expectations. It fails with ERROR, and so
  stops everything downstream of its asset, only when one of them fails:
  - on a raw table (``raw/<source>``): the same sheet row loaded twice (the ingest is broken, every
    count in the marts would double);
  - on a reconciliation (``dq/reconcile_*``): its key repeats (the model is broken);
  - on ``dq/findings``: a check name outside catalog.CHECKS or a severity other than error/warning
    (code and contract disagree), or an ID-number-shaped value in detail, entity_key or
    source_file (personal data about to be published).
- ``gx_<suite>`` (not blocking): every other expectation, a *warning* (ID format, enumerations,
  ranges, dates; NULL county or year in a reconciliation; a NULL detail or entity_key or a repeated
  finding_key in dq.findings). Those rows are exactly what dq.findings and the city reports exist to
  show, so they flow on: this check fails with WARN at most.
A suite that cannot run gives both checks a WARN failure (``failed_to_run``): a broken validator
never stops the reports. The blocking check also orders the run: its step ends before anything
downstream of its asset starts, so the reports and the analysts' snapshot wait for both checks and
for the suite's row in dq.validation_runs. Error-severity dbt tests are blocking checks too (they
fail the dbt step); see docs/defects.md "What blocks publication".

Each result goes to the check's metadata (counts per expectation of that check and a few example
rows, personal columns masked: IDs keep their first 6 and last 4 characters); the suite's run, both
parts, to dq.validation_runs.
"""

from collections.abc import Iterator
from dataclasses import replace

import dagster as dg
import duckdb
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.lib.quality.suites import has_critical, suite_meta, suite_names
from orchestration.lib.quality.validation_runs import append_run, outcome_of
from orchestration.resources import WarehouseResource

OWNERS = ["team:data-quality"]
EXAMPLE_ROWS = 10


def check_name(suite: str) -> str:
    """The suite's warnings: not blocking, WARN at most."""
    return f"gx_{suite}"


def critical_check_name(suite: str) -> str:
    """The suite's critical expectations: blocking, ERROR when one fails."""
    return f"gx_{suite}_critical"


def check_names(suite: str) -> list[str]:
    """The checks a suite gives: its warnings, and its critical expectations when it has any."""
    return [check_name(suite)] + ([critical_check_name(suite)] if has_critical(suite) else [])


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


def result_metadata(run, suite_run) -> dict[str, dg.MetadataValue | int | float | str]:
    """The metadata of a check: ``run`` holds the outcomes of its own expectations, ``suite_run``
    the whole suite's (its outcome is the one in dq.validation_runs)."""
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
        "suite_outcome": outcome_of(suite_run),
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
) -> list[dg.AssetCheckResult]:
    """Run one suite on the warehouse, append it to dq.validation_runs, and give the results of its
    checks that the run selected: the warnings (WARN at most) and the critical part (ERROR when a
    critical expectation fails)."""
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
    context.log.info(
        f"{suite}: {outcome_of(run)}, {run.rows:,} rows, {len(run.failed)}/{run.evaluated} expectations "
        f"failed, {run.unexpected_total:,} unexpected values, {run.seconds:.1f} s"
    )
    selected = _selected(context)
    warnings = replace(run, outcomes=tuple(o for o in run.outcomes if not o.is_critical))
    critical = replace(run, outcomes=tuple(o for o in run.outcomes if o.is_critical))
    results = [
        dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=check_name(suite),
            passed=warnings.success,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**result_metadata(warnings, run), **extra},
        ),
        dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=critical_check_name(suite),
            passed=critical.success,
            # a critical expectation that GX could not evaluate warns, as in dq.validation_runs
            severity=dg.AssetCheckSeverity.ERROR
            if outcome_of(critical) == "error"
            else dg.AssetCheckSeverity.WARN,
            metadata=result_metadata(critical, run),
        ),
    ]
    return [result for result in results if result.check_name in selected]


def _selected(context: dg.AssetCheckExecutionContext) -> set[str]:
    return {key.name for key in context.selected_asset_check_keys}


def failed_to_run(
    suite: str, asset_key: dg.AssetKey, error: Exception, selected: set[str]
) -> Iterator[dg.AssetCheckResult]:
    """GX or the warehouse failed: say so as a warning on both checks rather than stop the reports."""
    for name in check_names(suite):
        if name in selected:
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=name,
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"error": dg.MetadataValue.text(f"{type(error).__name__}: {error}"[:2000])},
            )


def suite_asset_key(suite: str) -> dg.AssetKey:
    return dg.AssetKey(suite_meta(suite)["asset_key"])


def _description(suite: str, critical: bool = False) -> str:
    meta = suite_meta(suite)
    rules, effect = (
        ("critical", "Blocking: a failure is an ERROR and nothing downstream of "
         f'{meta["relation"]} runs (docs/defects.md, "What blocks publication").')
        if critical
        else ("warning", "Not blocking: their rows are what dq.findings and the reports show, "
              "so a failure is a WARN and everything downstream still runs.")
    )  # fmt: skip
    return (
        f"{meta.get('title_zh', suite)} — the {rules} rules of Great Expectations suite "
        f"expectations/{suite}.json on {meta['relation']}. {effect}"
    )


def check_specs(suite: str) -> list[dg.AssetCheckSpec]:
    """The suite's checks: the warnings never block, the critical expectations always do."""
    asset_key = suite_asset_key(suite)
    specs = [
        dg.AssetCheckSpec(
            check_name(suite),
            asset=asset_key,
            blocking=False,
            description=_description(suite),
            metadata={"owners": OWNERS},
        )
    ]
    if has_critical(suite):
        specs.append(
            dg.AssetCheckSpec(
                critical_check_name(suite),
                asset=asset_key,
                blocking=True,
                description=_description(suite, critical=True),
                metadata={"owners": OWNERS},
            )
        )
    return specs


def raw_source_check(suite: str) -> dg.AssetChecksDefinition:
    """One step per raw suite: it runs on ``raw/<source>`` as soon as that source is ingested."""
    asset_key = suite_asset_key(suite)

    @dg.multi_asset_check(
        name=f"gx_{suite}_suite",
        specs=check_specs(suite),
        can_subset=True,
        description=f"Great Expectations suite expectations/{suite}.json on {suite_meta(suite)['relation']}.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        try:
            yield from evaluate(suite, asset_key, context, warehouse)
        except Exception as error:  # noqa: BLE001 - a broken validator must not stop the pipeline
            context.log.exception(f"suite {suite} could not run")
            yield from failed_to_run(suite, asset_key, error, _selected(context))

    return _check


RAW_SUITES, DQ_SUITES = suites_by_layer()

raw_source_checks = [raw_source_check(suite) for suite in RAW_SUITES]


@dg.multi_asset_check(
    name="gx_reconciliations",
    specs=[spec for suite in DQ_SUITES for spec in check_specs(suite)],
    can_subset=True,
    description="Great Expectations suites on the dq reconciliation models and dq.findings.",
)
def reconciliation_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    selected = _selected(context)
    for suite in DQ_SUITES:
        if not selected & set(check_names(suite)):
            continue
        asset_key = suite_asset_key(suite)
        try:
            yield from evaluate(suite, asset_key, context, warehouse)
        except Exception as error:  # noqa: BLE001 - a broken validator must not hide the findings
            context.log.exception(f"suite {suite} could not run")
            yield from failed_to_run(suite, asset_key, error, selected)
