"""`publish/analytics_snapshot`: the read-only copy of marts and dq that analysts query."""

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from orchestration.lib.publish.snapshot import PUBLISHED_SCHEMAS, publish_snapshot
from orchestration.resources import PathsResource

# Areas whose assets build tables in the warehouse: dbt models (transform) and the quality checks.
TABLE_BUILDING_PACKAGES = ("orchestration.defs.transform", "orchestration.defs.quality")


def schema_of(key: dg.AssetKey, metadata: Mapping[str, Any]) -> str | None:
    """The warehouse schema an asset builds: from its table name (dagster-dbt sets it from the
    dbt manifest as database.schema.table), else from the first part of its key."""
    table_name = metadata.get("dagster/table_name")
    if table_name is not None:
        parts = str(getattr(table_name, "value", table_name)).split(".")
        return parts[-2] if len(parts) >= 2 else None
    return key.path[0] if len(key.path) > 1 else None


def _assets_defined_in(package_name: str) -> Iterator[dg.AssetsDefinition]:
    """Every AssetsDefinition at module level in a package and its sub-modules (namespace
    packages included, which dg.load_assets_from_package_module cannot walk)."""
    package = importlib.import_module(package_name)
    modules = [package] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}.")
    ]
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, dg.AssetsDefinition):
                yield value


def published_table_keys() -> list[dg.AssetKey]:
    """Every asset that builds a table in a published schema, so the snapshot follows them all.

    Read from the assets themselves rather than listed here: a model added to marts or dq
    becomes an upstream of the snapshot without touching this file.
    """
    keys = set()
    for package_name in TABLE_BUILDING_PACKAGES:
        if importlib.util.find_spec(package_name) is None:
            continue
        for assets_def in _assets_defined_in(package_name):
            for spec in assets_def.specs:
                if schema_of(spec.key, spec.metadata) in PUBLISHED_SCHEMAS:
                    keys.add(spec.key)
    return sorted(keys, key=lambda k: k.to_user_string())


@dg.asset(
    key=["publish", "analytics_snapshot"],
    group_name="publish",
    kinds={"duckdb"},
    deps=published_table_keys(),
    owners=["team:data-engineering"],
    # Unpartitioned, but part of monthly_attainment: single-run lets one run cover a range of months.
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="分析库快照 Analysts' snapshot: the marts and dq schemas copied to "
    "TRAINING_ANALYTICS_DB (default warehouse/analytics.duckdb) after every build, checked for "
    "personal data and swapped in with one atomic rename. Read-only; no raw, staging or audit data.",
)
def analytics_snapshot(context: dg.AssetExecutionContext, paths: PathsResource) -> dg.MaterializeResult:
    stats = publish_snapshot(paths.warehouse_path, paths.analytics_db_path)
    context.log.info(
        f"published {len(stats.tables)} tables ({len(stats.copied)} written from the warehouse, "
        f"{sum(stats.rows_written.values()):,} rows: whole, or the rows that changed since the previous "
        f"snapshot; the others kept), {stats.bytes:,} bytes in {stats.seconds:.1f} s to {stats.path}"
    )
    if stats.masked:  # free text the field typed an ID or phone number into: masked, not a stop
        context.log.warning(
            "masked ID- or mobile-number-shaped values in the snapshot: "
            + ", ".join(f"{column} {count}" for column, count in stats.masked.items())
        )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(stats.path)),
            "tables": dg.MetadataValue.table(
                records=[
                    dg.TableRecord({"table": name, "rows": rows}) for name, rows in stats.tables.items()
                ],
                schema=dg.TableSchema(
                    columns=[dg.TableColumn("table", "string"), dg.TableColumn("rows", "int")]
                ),
            ),
            "table_count": len(stats.tables),
            "tables_copied": len(stats.copied),
            # rows written: of a table updated by its difference, the changed rows only
            "rows_copied": sum(stats.rows_written.values()),
            "dagster/row_count": sum(stats.tables.values()),
            "bytes": stats.bytes,
            "seconds": round(stats.seconds, 2),
            "values_masked": sum(stats.masked.values()),
        }
    )
