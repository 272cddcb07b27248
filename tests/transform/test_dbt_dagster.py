"""The dbt project as Dagster assets: lineage from ingest, groups, checks, the manifest, a run."""

from __future__ import annotations

import os
import shutil
import time

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtProject

from orchestration.defs.transform.assets import gansu_training_dbt
from orchestration.lib.transform.project import dbt_executable, ensure_manifest, manifest_is_stale
from orchestration.resources import DBT_PROJECT_DIR, OfflineDbtCliResource, PiiKeyResource, WarehouseResource
from orchestration.sources import SOURCES


def specs_by_key() -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in gansu_training_dbt.specs}


def test_every_raw_source_is_the_ingest_asset_upstream_of_its_staging_model():
    specs = specs_by_key()
    upstream = {dep.asset_key for spec in specs.values() for dep in spec.deps}
    for source in SOURCES.values():
        assert dg.AssetKey(["raw", source.name]) in upstream, source.name
    members = specs[dg.AssetKey(["staging", "stg_household_sheets__members"])]
    assert dg.AssetKey(["raw", "household_members"]) in {dep.asset_key for dep in members.deps}


def test_models_are_grouped_by_layer_and_keyed_by_schema():
    specs = specs_by_key()
    groups = {key.to_user_string(): spec.group_name for key, spec in specs.items()}
    assert groups["staging/stg_training_ledgers__records"] == "staging"
    assert groups["staging/int_training_enrolments_deduplicated"] == "staging"
    assert groups["reference/programmes"] == "reference"
    assert groups["marts/fct_training_enrolments"] == "marts"
    assert groups["marts/mart_target_attainment_monthly"] == "marts"
    assert {key.path[0] for key in specs} == {"staging", "marts", "reference"} | (
        {"dq"} if any(key.path[0] == "dq" for key in specs) else set()
    )
    for spec in specs.values():
        assert {"dbt", "duckdb"} <= set(spec.kinds)
    assert "attainment" in specs[dg.AssetKey(["marts", "mart_target_attainment_monthly"])].description


def test_dbt_tests_are_asset_checks():
    check_keys = {(key.asset_key.to_user_string(), key.name) for key in gansu_training_dbt.check_keys}
    assert ("marts/dim_trainee", "unique_dim_trainee_trainee_key") in check_keys
    assert ("marts/fct_training_enrolments", "assert_marts_hold_no_id_numbers") in check_keys


def test_definitions_load_with_the_dbt_resource():
    from orchestration.definitions import defs

    definitions = defs()
    assert "dbt" in definitions.resources
    graph = definitions.get_repository_def().asset_graph
    assert dg.AssetKey(["marts", "mart_province_attainment_monthly"]) in graph.get_all_asset_keys()


def test_manifest_is_parsed_when_missing_and_again_when_a_model_changes(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    assert manifest_is_stale(project)
    started = time.perf_counter()
    manifest = ensure_manifest(project)
    cold = time.perf_counter() - started
    assert manifest.exists() and not manifest_is_stale(project)
    print(f"dbt parse from scratch: {cold:.1f} s")

    # a model edited after the last parse
    model = project_dir / "models" / "marts" / "core" / "dim_month.sql"
    earlier = model.stat().st_mtime - 60
    os.utime(manifest, (earlier, earlier))
    assert manifest_is_stale(project)
    ensure_manifest(project)
    assert manifest.stat().st_mtime > earlier and not manifest_is_stale(project)


@pytest.mark.slow
def test_materialising_the_dbt_assets_builds_the_marts(tmp_path):
    from tests.transform.test_dbt_build import PII_KEY, TASK_2015, write_raw_world

    warehouse = tmp_path / "training.duckdb"
    write_raw_world(warehouse)
    # The settings go in through the resources: the dbt resource hands dbt the warehouse and the key.
    dbt = OfflineDbtCliResource(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        warehouse=str(warehouse),
        pii_key=PII_KEY,
    )
    result = dg.materialize(
        [gansu_training_dbt],
        # the marts and everything they read (the gap bridge reads dq.ledger_record_outcomes)
        selection=dg.AssetSelection.groups("reference", "staging", "marts").upstream()
        & dg.AssetSelection.assets(gansu_training_dbt),
        resources={"dbt": dbt, "pii_key": PiiKeyResource(key=PII_KEY)},
        raise_on_error=False,
    )
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "marts/mart_province_attainment_monthly" in materialised
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        total = con.execute(
            "select sum(annual_target) from marts.mart_province_attainment_monthly where month = '2015-12-01'"
        ).fetchone()
    assert total == (sum(TASK_2015.values()),)


PROGRAMMES = dg.AssetKey(["reference", "programmes"])
DIM_PROGRAMME = dg.AssetKey(["marts", "dim_programme"])


def _table_columns(warehouse, schema: str, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()


@pytest.mark.slow
def test_dbt_materialisations_carry_column_types_row_counts_and_lineage(tmp_path, monkeypatch):
    """The table metadata the Dagster UI shows (orchestration/lib/transform/dbt_metadata.py), and a
    later step of the same in-process run opening the warehouse: what dagster-dbt's own fetching
    broke ("Can't open a connection to same database file with a different configuration")."""
    from tests.transform.test_dbt_build import PII_KEY

    # Two nodes of an empty warehouse: the tests of tables not built here stay out.
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")
    warehouse = tmp_path / "training.duckdb"
    resources = {
        "dbt": OfflineDbtCliResource(
            project_dir=os.fspath(DBT_PROJECT_DIR),
            dbt_executable=dbt_executable(),
            warehouse=str(warehouse),
            pii_key=PII_KEY,
        ),
        "pii_key": PiiKeyResource(key=PII_KEY),
        "warehouse": WarehouseResource(database=str(warehouse)),
    }

    @dg.asset(deps=[DIM_PROGRAMME])
    def reads_the_warehouse(warehouse: WarehouseResource) -> int:
        with warehouse.get_connection() as con:
            return con.execute("select count(*) from marts.dim_programme").fetchone()[0]

    result = dg.materialize(
        [gansu_training_dbt, reads_the_warehouse],
        selection=[PROGRAMMES, DIM_PROGRAMME, reads_the_warehouse.key],
        resources=resources,
        raise_on_error=False,
    )
    assert result.success
    assert result.output_for_node("reads_the_warehouse") == 8
    metadata = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}

    for key, (schema, table) in {
        PROGRAMMES: ("reference", "programmes"),
        DIM_PROGRAMME: ("marts", "dim_programme"),
    }.items():
        columns = metadata[key]["dagster/column_schema"].schema.columns
        assert [(c.name, c.type) for c in columns] == _table_columns(warehouse, schema, table)
    assert ("min_duration", "DECIMAL(8,2)") in _table_columns(warehouse, "marts", "dim_programme")
    assert metadata[PROGRAMMES]["dagster/row_count"].value == 7  # the seven programmes
    assert metadata[DIM_PROGRAMME]["dagster/row_count"].value == 8  # and the unknown one
    assert "dagster/column_lineage" not in metadata[PROGRAMMES]  # a seed reads nothing

    def lineage_of(event_metadata) -> dict[str, set[tuple[str, str]]]:
        deps = event_metadata["dagster/column_lineage"].column_lineage.deps_by_column
        return {c: {(d.asset_key.to_user_string(), d.column_name) for d in ds} for c, ds in deps.items()}

    lineage = lineage_of(metadata[DIM_PROGRAMME])
    assert set(lineage) == {name for name, _ in _table_columns(warehouse, "marts", "dim_programme")}
    assert lineage["programme_name_zh"] == {("reference/programmes", "name_zh")}
    assert lineage["annual_target"] == {("reference/programmes", "annual_target")}
    assert lineage["is_unknown"] == set()  # constants only

    # The model alone: its parent is not rebuilt, the post-hook logs the parent's columns itself.
    again = dg.materialize([gansu_training_dbt], selection=[DIM_PROGRAMME], resources=resources)
    (event,) = again.get_asset_materialization_events()
    assert lineage_of(event.materialization.metadata) == lineage
