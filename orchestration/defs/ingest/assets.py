"""The seven ingest assets ``raw/<source>`` and their ``ingest_clean`` checks.

One multi-asset so that one process pool parses every changed file of the selected sources;
``can_subset`` keeps each source materialisable on its own. The work is ``ingest_raw``.
"""

from collections import Counter
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from orchestration.lib.ingest.reasons import REJECTING_CODES
from orchestration.resources import PathsResource, WarehouseResource
from orchestration.sources import SOURCES, Source

if TYPE_CHECKING:
    from orchestration.lib.ingest.pipeline import IngestReport, SourceReport

OWNERS = ["team:data-engineering"]
CHECK_NAME = "ingest_clean"
# How many problems a check lists in its metadata (the audit tables hold them all).
LIST_LIMIT = 50


def raw_asset_key(source_name: str) -> dg.AssetKey:
    """The asset key of a source's raw table: ``raw/<source name>``."""
    return dg.AssetKey(["raw", source_name])


RAW_ASSET_KEYS: dict[str, dg.AssetKey] = {name: raw_asset_key(name) for name in SOURCES}


def _spec(source: Source) -> dg.AssetSpec:
    columns = [
        dg.TableColumn(column.name, "string", description=column.header) for column in source.all_columns
    ]
    return dg.AssetSpec(
        key=raw_asset_key(source.name),
        group_name="ingest",
        description=(
            f"{source.description} Every file under raw/{source.folder}/ (.xlsx, .xls, .ods, .csv), "
            f"all text, with lineage (source_file, sheet, row_number); what could not be loaded as "
            f"written is in audit.quarantine."
        ),
        kinds={"excel", "duckdb"},
        owners=OWNERS,
        skippable=True,
        tags={"layer": "raw"},
        metadata={
            "dagster/table_name": f"raw.{source.table}",
            "dagster/column_schema": dg.TableSchema(columns=columns),
            "raw_folder": f"raw/{source.folder}",
            "document": source.title_zh,
        },
    )


def _check_spec(source: Source) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=raw_asset_key(source.name),
        description=(
            f"Every file of raw/{source.folder}/ was read and no sheet was refused "
            "(unreadable, password-protected or empty files, missing required columns, no header). "
            "Lists each problem with file, sheet, row and column. Not blocking: a failed file is "
            "a finding (file_not_loaded), never a reason to stop the run."
        ),
        blocking=False,
    )


@dg.multi_asset(
    name="raw_sources",
    specs=[_spec(source) for source in SOURCES.values()],
    check_specs=[_check_spec(source) for source in SOURCES.values()],
    can_subset=True,
    description="Ingest every raw file of the selected sources into DuckDB raw.*, incrementally.",
)
def raw_sources(context: dg.AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    from orchestration.lib.ingest.pipeline import ingest_raw  # numpy and the readers: only when run

    names = [key.path[-1] for key in context.selected_asset_keys]
    report = ingest_raw(
        paths.raw_path, paths.warehouse_path, names, run_id=context.run.run_id, log=context.log
    )
    with warehouse.read_only_connection() as con:
        for name in names:
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(name), metadata=_materialisation_metadata(con, report, name)
            )
        checked = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
        for name in names:
            if name in checked:
                yield ingest_check_result(con, name)


def _materialisation_metadata(con: duckdb.DuckDBPyConnection, report: "IngestReport", name: str) -> dict:
    source_report: SourceReport = report.sources[name]
    parsed = [o for o in source_report.outcomes if o.status in ("loaded", "failed")]
    table_rows, files = con.execute(
        f'select count(*), count(distinct source_file) from raw."{SOURCES[name].table}"'
    ).fetchone()
    quarantine = dict(
        con.execute(
            "select coalesce(reason_code, ''), count(*) from audit.quarantine where source = ? group by 1",
            [name],
        ).fetchall()
    )
    return {
        "dagster/row_count": dg.MetadataValue.int(table_rows),
        "files_in_table": dg.MetadataValue.int(files),
        "files_by_status": dg.MetadataValue.json(source_report.files_by_status),
        "rows_loaded_this_run": dg.MetadataValue.int(sum(o.rows_loaded for o in parsed)),
        "rows_quarantined_this_run": dg.MetadataValue.int(sum(o.rows_quarantined for o in parsed)),
        "rows_skipped_this_run": dg.MetadataValue.int(sum(o.rows_skipped for o in parsed)),
        "parse_seconds": dg.MetadataValue.float(round(float(sum(o.seconds or 0.0 for o in parsed)), 2)),
        "run_seconds": dg.MetadataValue.float(round(float(report.seconds), 2)),
        "quarantine_entries": dg.MetadataValue.int(sum(quarantine.values())),
        "quarantine_by_reason": dg.MetadataValue.json(dict(Counter(quarantine).most_common())),
    }


def ingest_check_result(con: duckdb.DuckDBPyConnection, name: str) -> dg.AssetCheckResult:
    """Fails when a file of the source is failed or a sheet was refused, listing each problem.

    A WARN, not blocking: a file that could not be loaded never stops the run (it is a finding,
    file_not_loaded, in dq.findings and the city reports)."""
    failed = con.execute(
        "select source_file, error from audit.current_files where source = ? and status = 'failed' "
        "order by source_file",
        [name],
    ).fetchall()
    refused = con.execute(
        "select source_file, sheet, row_number, column_name, reason from audit.quarantine "
        "where source = ? and list_contains(?, reason_code) order by source_file, sheet, row_number",
        [name, sorted(REJECTING_CODES)],
    ).fetchall()
    problems = [{"file": f, "sheet": None, "row": None, "column": None, "problem": e} for f, e in failed]
    problems += [
        {"file": f, "sheet": s, "row": r, "column": c, "problem": why} for f, s, r, c, why in refused
    ]
    lines = [
        f"- `{p['file']}`"
        + (f" sheet “{p['sheet']}”" if p["sheet"] else "")
        + (f" row {p['row']}" if p["row"] else "")
        + (f" column {p['column']}" if p["column"] else "")
        + f": {p['problem']}"
        for p in problems[:LIST_LIMIT]
    ]
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(name),
        check_name=CHECK_NAME,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description=None
        if not problems
        else f"{len(failed)} file(s) failed, {len(refused)} sheet problem(s)",
        metadata={
            "failed_files": dg.MetadataValue.int(len(failed)),
            "refused_sheets": dg.MetadataValue.int(len(refused)),
            "problems": dg.MetadataValue.md("\n".join(lines) or "none"),
            "problem_list": dg.MetadataValue.json(problems[:LIST_LIMIT]),
        },
    )
