"""The ingest assets in Dagster: seven keys, one pool, checks that fail without crashing."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.defs.ingest.assets import CHECK_NAME, RAW_ASSET_KEYS, raw_asset_key, raw_sources
from orchestration.resources import PathsResource, WarehouseResource
from orchestration.sources import SOURCES
from tests.support.ingest_cases import Warehouse, households, write_csv, write_xlsx


@pytest.fixture
def env(tmp_path) -> Warehouse:
    wh = Warehouse(tmp_path)
    write_xlsx(wh.file("household_sheets", "good.xlsx"), {"S": households(3)})
    wh.file("household_sheets", "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    write_csv(
        wh.file("village_sheets", "v.csv"),
        [["县区", "乡镇", "行政村", "总户数"], ["康乐县", "城关镇", "村1", "9"]],
    )
    return wh


def resources(wh: Warehouse) -> dict:
    """The settings the assets take: the raw folder and the warehouse of this test."""
    paths = PathsResource(
        raw_dir=str(wh.raw),
        warehouse=str(wh.path),
        analytics_db=str(wh.path.with_name("analytics.duckdb")),
        reports_dir=str(wh.path.parent / "reports"),
    )
    return {"paths": paths, "warehouse": WarehouseResource(database=str(wh.path))}


def test_seven_assets_in_the_ingest_group():
    specs = {spec.key: spec for spec in raw_sources.specs}
    assert set(specs) == {dg.AssetKey(["raw", name]) for name in SOURCES} == set(RAW_ASSET_KEYS.values())
    for name, source in SOURCES.items():
        spec = specs[raw_asset_key(name)]
        assert spec.group_name == "ingest"
        assert spec.kinds == {"excel", "duckdb"}
        assert spec.owners
        assert source.title_zh.split("-")[-1] in spec.description or source.description in spec.description
    assert {key.asset_key for key in raw_sources.check_keys} == set(specs)


def test_materialise_all_sources_and_checks(env):
    result = dg.materialize([raw_sources], instance=dg.DagsterInstance.ephemeral(), resources=resources(env))
    assert result.success  # a broken file does not fail the run
    materialised = {m.asset_key: m for m in result.get_asset_materialization_events()}
    assert set(materialised) == set(RAW_ASSET_KEYS.values())
    household = result.asset_materializations_for_node("raw_sources")
    by_key = {m.asset_key: m.metadata for m in household}
    metadata = by_key[raw_asset_key("household_members")]
    assert metadata["dagster/row_count"].value == 3
    assert metadata["files_by_status"].value == {"loaded": 1, "failed": 1}
    assert metadata["rows_loaded_this_run"].value == 3
    checks = {e.asset_key: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == set(RAW_ASSET_KEYS.values())
    assert all(e.check_name == CHECK_NAME for e in checks.values())
    failing = checks[raw_asset_key("household_members")]
    assert not failing.passed
    assert "broken.xlsx" in failing.metadata["problems"].value
    assert checks[raw_asset_key("village_statistics")].passed
    assert env.one("select count(distinct run_id) from audit.ingest_files") == 1


def test_materialise_one_source_alone(env):
    result = dg.materialize(
        [raw_sources],
        selection=[raw_asset_key("village_statistics")],
        instance=dg.DagsterInstance.ephemeral(),
        resources=resources(env),
    )
    assert result.success
    assert [m.asset_key for m in result.get_asset_materialization_events()] == [
        raw_asset_key("village_statistics")
    ]
    assert env.one("select count(*) from raw.village_statistics") == 1
    assert env.one("select count(*) from raw.household_members") == 0
