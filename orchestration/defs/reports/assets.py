"""The report assets (group ``reports``): partitioned by month, one run for any range of months.

They read dq.findings, the attainment marts and, for the rows to fix, two staging tables (UPSTREAM
lists every table they read). They run after the checks on dq.findings: gx_findings_critical is
blocking, so a report never goes out before its data was checked (both of the suite's checks run in
that step); it stops the reports only when dq.findings would leak an ID number or disagrees with
the check catalogue.

A report whose inputs did not change is not rewritten (orchestration/lib/reports/freshness.py);
the metadata says how many files were written and how many were already up to date.
"""

import functools
import time

import dagster as dg
import duckdb

from orchestration.defs.schedules import monthly_partitions
from orchestration.lib.reports import data
from orchestration.lib.reports.builder import (
    Outcome,
    ReportWriters,
    in_writing_order,
    write_city_reports,
    write_province_summary,
)
from orchestration.resources import PathsResource, ReportSettingsResource, WarehouseResource

# Every table orchestration/lib/reports reads, so the lineage runs unbroken from raw file to report.
UPSTREAM = [
    dg.AssetKey(["dq", "findings"]),
    dg.AssetKey(["marts", "mart_target_attainment_monthly"]),
    dg.AssetKey(["marts", "mart_city_attainment_monthly"]),
    dg.AssetKey(["marts", "mart_province_attainment_monthly"]),
    dg.AssetKey(["marts", "mart_township_attainment_monthly"]),
    dg.AssetKey(["marts", "mart_reporting_completeness"]),
    dg.AssetKey(["marts", "mart_attainment_forecast"]),
    dg.AssetKey(["marts", "dim_programme"]),
    dg.AssetKey(["reference", "regions"]),
    # The rows to fix: names and masked ID numbers of the people a finding points at.
    dg.AssetKey(["staging", "int_household_members_resolved"]),
    dg.AssetKey(["staging", "int_training_enrolments_checked"]),
    # The village work lists (names and masked IDs joined from int_household_members_resolved).
    dg.AssetKey(["marts", "mart_village_work_list"]),
    dg.AssetKey(["marts", "mart_village_work_summary"]),
    # The person-matching review list (names and masked IDs joined from the two staging tables).
    dg.AssetKey(["dq", "person_match_candidates"]),
]
OWNERS = ["team:data-quality"]


def run_months(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> list[str]:
    """The run's month or range of months; a run started without one writes every data month."""
    if context.has_partition_key_range or context.has_partition_key:
        return list(context.partition_keys)
    months = data.data_months(con)
    context.log.info(f"full refresh (no partition): writing every month with data ({len(months)})")
    return months


def _write(
    context: dg.AssetExecutionContext, writer, paths: PathsResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    reports_dir = paths.reports_path
    started = time.perf_counter()
    outcome, empty, files_by_month = Outcome(), [], {}
    # the reports are written by worker processes; all of them written on leaving the block
    with warehouse.read_only_connection() as con, ReportWriters() as writers:
        months = run_months(context, con)
        report_data = data.ReportData(con)  # each table read once for all the run's months
        for month in in_writing_order(months):
            files = writer(con, month, reports_dir, report_data=report_data, writers=writers)
            outcome += files
            files_by_month[month] = len(files.files)
            if not files.files:
                empty.append(month)
    seconds = time.perf_counter() - started
    if not (context.has_partition_key or context.has_partition_key_range):
        _record_partitions(context, files_by_month)
    written = outcome.written
    context.log.info(
        f"{len(written)} files written, {len(outcome.unchanged)} up to date, for "
        f"{len(months) - len(empty)} months in {seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "reports_dir": dg.MetadataValue.path(str(reports_dir)),
            "files": len(outcome.files),
            "files_written": len(written),
            "files_unchanged": len(outcome.unchanged),
            "workbooks": sum(1 for p in outcome.files if p.suffix == ".xlsx"),
            "workbooks_written": sum(1 for p in written if p.suffix == ".xlsx"),
            "months_written": len({p.parent.name for p in written}),
            "months_with_data": len(months) - len(empty),
            "months_without_data": dg.MetadataValue.text(", ".join(sorted(empty)) if empty else "none"),
            "seconds": round(seconds, 2),
            "examples": dg.MetadataValue.md(
                "\n".join(f"- {p.relative_to(reports_dir)}" for p in written[:8]) or "(none written)"
            ),
        }
    )


def _record_partitions(context: dg.AssetExecutionContext, files_by_month: dict[str, int]) -> None:
    """A run without a partition (make run, full_refresh) writes every month with data: record each
    of those months as a materialized partition, so the UI's partition view says what is on disk."""
    known = set(context.assets_def.partitions_def.get_partition_keys())
    for month, files in files_by_month.items():
        if files and month in known:
            materialization = dg.AssetMaterialization(
                context.asset_key, partition=month, metadata={"files": files}
            )
            context.log_event(materialization)


@dg.asset(
    key=["reports", "city_quality_reports"],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=UPSTREAM,
    kinds={"excel", "html"},
    owners=OWNERS,
    # placeholders in code spans: the UI renders descriptions as markdown, where <month> is a tag
    description="市州数据质量与任务进度月报 Per-city monthly report: `<TRAINING_REPORTS_DIR>/<month>/"
    "<city_code>_<city name>.xlsx` and `.html` — findings by check and county against last month, target "
    "attainment against the pro-rata line with a chart, one sheet per check with the rows to fix "
    "(file, sheet, row). Only that city's data; ID numbers masked. Months without data are skipped.",
)
def city_quality_reports(
    context: dg.AssetExecutionContext,
    paths: PathsResource,
    warehouse: WarehouseResource,
    report_settings: ReportSettingsResource,
) -> dg.MaterializeResult:
    corrections = data.Corrections(report_settings.contact, report_settings.deadline_day)
    return _write(context, functools.partial(write_city_reports, corrections=corrections), paths, warehouse)


@dg.asset(
    key=["reports", "province_quality_summary"],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=UPSTREAM,
    kinds={"excel", "html"},
    owners=OWNERS,
    description="全省汇总 Province summary beside the city reports: `<month>/620000_甘肃省.xlsx` and "
    "`.html`, findings by city and check against last month and attainment by city. Counts only, no person.",
)
def province_quality_summary(
    context: dg.AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _write(context, write_province_summary, paths, warehouse)
