"""The analysts' snapshot: only marts and dq, no personal data, replaced atomically."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.publish.assets import analytics_snapshot, published_table_keys, schema_of
from orchestration.lib.publish.snapshot import (
    PUBLISHED_SCHEMAS,
    PersonalDataError,
    building_path,
    find_personal_data,
    publish_snapshot,
    record_path,
    snapshot_schemas,
)
from orchestration.resources import PathsResource
from tests.project.test_contract import check_analytics
from tests.support.reliability_helpers import checksums, differing

ID_NUMBER = "620102198501011234"


def make_warehouse(path: Path, version: int = 1, rows: int = 1000) -> Path:
    """A warehouse like the pipeline's: personal data in raw/staging/audit, none in marts/dq.

    `version` is written into a marts table and a dq table, and decides the row count of a
    third, so a reader can tell which build it sees and whether it sees one build whole.
    """
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "staging", "audit", "marts", "dq"):
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"drop table if exists {schema}.build_version")
        person = "select 'Zhang San' as trainee_name, ? as id_number"
        con.execute(f"create or replace table raw.training_records as {person}", [ID_NUMBER])
        con.execute(f"create or replace table staging.stg_persons as {person}", [ID_NUMBER])
        con.execute("create or replace table audit.quarantine as select ? as raw_value", [ID_NUMBER])
        con.execute("create table marts.build_version as select ?::integer as version", [version])
        con.execute("create table dq.build_version as select ?::integer as version", [version])
        con.execute(
            "create or replace table marts.fct_training_enrolments as "
            "select 'ghijklmnop' || i as trainee_key, 'EMPLOY' as programme_code, i as row_id "
            "from range(?) t(i)",
            [rows + version],
        )
        con.execute("comment on table marts.fct_training_enrolments is '培训记录事实表 training enrolments'")
        con.execute("comment on column marts.fct_training_enrolments.programme_code is '培训项目 programme'")
        con.execute(
            "create or replace table dq.findings as select 'course_too_short' as check_name, "
            "'warning' as severity, '培训天数不足' as detail"
        )
        # A view in a published schema: copied as a table, so the snapshot does not need staging.
        con.execute(
            "create or replace view marts.v_programmes as "
            "select distinct programme_code from marts.fct_training_enrolments"
        )
    return path


def test_snapshot_holds_marts_and_dq_and_nothing_personal(tmp_path):
    warehouse = make_warehouse(tmp_path / "training.duckdb")
    target = tmp_path / "analytics.duckdb"

    stats = publish_snapshot(warehouse, target)

    assert snapshot_schemas(target) == {"marts", "dq"}
    assert stats.tables == {
        "dq.build_version": 1,
        "dq.findings": 1,
        "marts.build_version": 1,
        "marts.fct_training_enrolments": 1001,
        "marts.v_programmes": 1,
    }
    assert stats.bytes == target.stat().st_size > 0
    assert check_analytics(str(target)) == []
    with duckdb.connect(str(target), read_only=True) as con:
        comments = con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_training_enrolments'"
        ).fetchone()
        column_comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'fct_training_enrolments' "
            "and column_name = 'programme_code'"
        ).fetchone()
        kinds = {r[0] for r in con.execute("select table_type from information_schema.tables").fetchall()}
    assert comments == ("培训记录事实表 training enrolments",)
    assert column_comment == ("培训项目 programme",)
    assert kinds == {"BASE TABLE"}
    # Read-only on disk, and nothing left beside it but the record of what was published.
    assert not target.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        record_path(target).name,
        "analytics.duckdb",
        "training.duckdb",
    ]


@pytest.mark.parametrize(
    "leak_sql, table, column, shown",
    [
        (
            f"create table dq.findings_leak as select '身份证 {ID_NUMBER} 校验位错误' as detail",
            "dq.findings_leak",
            "detail",
            f"身份证 {ID_NUMBER[:3]}********{ID_NUMBER[-4:]} 校验位错误",
        ),
        (
            "create table marts.dim_old as select 'old id 620102850101123 ' as note",
            "marts.dim_old",
            "note",
            "old id 620********1123 ",
        ),
        (
            "create table marts.dim_contact as select '联系电话13912345678' as note",
            "marts.dim_contact",
            "note",
            "联系电话139********5678",
        ),
    ],
)
def test_personal_values_in_free_text_are_masked_and_published(tmp_path, leak_sql, table, column, shown):
    """An ID or phone number the field typed into free text must not stop the province's update:
    the copy masks it (first 3 and last 4 digits) and says how many it masked."""
    warehouse = make_warehouse(tmp_path / "training.duckdb", version=1)
    target = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(leak_sql)

    stats = publish_snapshot(warehouse, target)

    assert stats.masked == {f"{table}.{column}": 1}
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute(f"select {column} from {table}").fetchall() == [(shown,)]
        assert find_personal_data(con, PUBLISHED_SCHEMAS) == []


def comments(path: Path) -> list[tuple]:
    """The table and column comments of a snapshot."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name, comment from duckdb_tables() union all "
            "select schema_name, table_name || '.' || column_name, comment from duckdb_columns() "
            "order by 1, 2"
        ).fetchall()


def test_a_new_build_keeps_the_tables_that_did_not_change_and_equals_a_fresh_copy(tmp_path):
    warehouse = make_warehouse(tmp_path / "training.duckdb", version=1)
    target = tmp_path / "analytics.duckdb"
    first = publish_snapshot(warehouse, target)
    assert first.copied == sorted(first.tables)  # no previous snapshot: everything copied

    make_warehouse(warehouse, version=2)  # the version tables and the fact table change
    with duckdb.connect(str(warehouse)) as con:
        con.execute("comment on column marts.fct_training_enrolments.programme_code is null")
        con.execute("comment on table dq.findings is '发现 findings'")  # a comment, same rows
        con.execute("create table marts.dim_new as select 1 as n")
        con.execute("create table dq.gone as select 1 as n")
    second = publish_snapshot(warehouse, target)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table dq.gone")
        con.execute("update marts.dim_new set n = 2")
    third = publish_snapshot(warehouse, target)

    assert second.copied == [
        "dq.build_version",
        "dq.gone",
        "marts.build_version",
        "marts.dim_new",
        "marts.fct_training_enrolments",
    ]
    assert third.copied == ["marts.dim_new"]  # dq.findings and marts.v_programmes kept twice
    fresh = publish_snapshot(warehouse, tmp_path / "fresh" / "analytics.duckdb")
    assert fresh.copied == sorted(fresh.tables)
    assert "dq.gone" not in third.tables
    assert differing(checksums(target), checksums(fresh.path)) == {}
    assert comments(target) == comments(fresh.path)


def _warehouse_of_trainees(tmp_path: Path, rows_sql: str) -> Path:
    """A warehouse whose only published table is marts.dim_trainee, made of `rows_sql`."""
    warehouse = tmp_path / "training.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.dim_trainee as {rows_sql}")
    return warehouse


def _rows(path: Path, relation: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.execute(f"select * from {relation}").fetchall(), key=repr)


def test_a_table_that_changed_a_little_is_updated_by_its_difference(tmp_path):
    """Rows gone, rows changed (one now holding an ID), a repeat of a row added: only those are
    written, the new ID is masked, and the table equals a fresh copy; its repeats included."""
    warehouse = _warehouse_of_trainees(
        tmp_path,
        "select 'k' || i as trainee_key, i % 7 as n, case when i % 11 > 0 then '村' || i end as village "
        "from range(1000) t(i) union all select 'k1', 1, '村1' union all select 'k1', 1, '村1'",  # k1 thrice
    )
    target = tmp_path / "analytics.duckdb"
    first = publish_snapshot(warehouse, target, schemas=("marts",))
    assert first.rows_written == {"marts.dim_trainee": 1002}

    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.dim_trainee where trainee_key in ('k3', 'k4', 'k5')")
        con.execute("update marts.dim_trainee set n = 100 where trainee_key in ('k20', 'k21')")
        con.execute("update marts.dim_trainee set village = ? where trainee_key = 'k30'", [f"村{ID_NUMBER}"])
        con.execute("delete from marts.dim_trainee where trainee_key = 'k1' and rowid > 1")  # one k1 left
        con.execute("insert into marts.dim_trainee values ('k2', 2, '村2'), ('k9999', null, null)")
    second = publish_snapshot(warehouse, target, schemas=("marts",))
    # new: k20, k21, k30 as changed, a second k2, k9999
    assert second.rows_written == {"marts.dim_trainee": 5}
    assert second.masked == {"marts.dim_trainee.village": 1}
    assert second.tables == {"marts.dim_trainee": 1000 - 3 + 1 + 1}
    fresh = publish_snapshot(warehouse, tmp_path / "fresh" / "analytics.duckdb", schemas=("marts",))
    assert fresh.rows_written == {"marts.dim_trainee": 999}
    assert _rows(target, "marts.dim_trainee") == _rows(fresh.path, "marts.dim_trainee")
    assert ("k30", 30 % 7, "村620********1234") in _rows(target, "marts.dim_trainee")

    # the masked row never equals the warehouse's: it is written and masked again each time
    third = publish_snapshot(warehouse, target, schemas=("marts",))
    assert third.rows_written == {"marts.dim_trainee": 1} and third.masked == second.masked
    assert _rows(target, "marts.dim_trainee") == _rows(fresh.path, "marts.dim_trainee")


@pytest.mark.parametrize(
    "change",
    [
        "update marts.dim_trainee set n = n + 100 where n < 6",  # 6 of 10 rows new: copied, not 6 written
        "alter table marts.dim_trainee alter n type bigint",  # same values, another type
    ],
)
def test_a_table_changed_through_and_through_is_copied_whole(tmp_path, change):
    warehouse = _warehouse_of_trainees(
        tmp_path, "select 'k' || i as trainee_key, i::integer as n from range(10) t(i)"
    )
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(warehouse, target, schemas=("marts",))
    with duckdb.connect(str(warehouse)) as con:
        con.execute(change)
    again = publish_snapshot(warehouse, target, schemas=("marts",))
    assert again.rows_written == {"marts.dim_trainee": 10}
    assert _rows(target, "marts.dim_trainee") == _rows(warehouse, "marts.dim_trainee")


def test_a_snapshot_changed_after_publishing_is_not_reused(tmp_path):
    warehouse = make_warehouse(tmp_path / "training.duckdb")
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(warehouse, target)
    target.chmod(0o644)
    with duckdb.connect(str(target)) as con:  # someone wrote into it: nothing in it is trusted
        con.execute("update dq.findings set detail = ?", [ID_NUMBER])
    again = publish_snapshot(warehouse, target)
    assert again.copied == sorted(again.tables)
    with duckdb.connect(str(target), read_only=True) as con:
        assert find_personal_data(con, PUBLISHED_SCHEMAS) == []


def test_a_personal_data_column_stops_publishing_and_keeps_the_old_snapshot(tmp_path):
    """A column named like personal data is a modelling error: nothing is published."""
    warehouse = make_warehouse(tmp_path / "training.duckdb", version=1)
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(warehouse, target)
    before = target.read_bytes()

    make_warehouse(warehouse, version=2)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table marts.dim_trainee_leak as select 'Zhang San' as trainee_name")
    with pytest.raises(PersonalDataError, match="a personal-data column"):
        publish_snapshot(warehouse, target)

    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        record_path(target).name,
        "analytics.duckdb",
        "training.duckdb",
    ]


def test_a_killed_build_leaves_nothing_that_the_next_build_keeps(tmp_path):
    warehouse = make_warehouse(tmp_path / "training.duckdb")
    target = tmp_path / "analytics.duckdb"
    # What a build killed before its rename leaves behind (another pid, half a file).
    leftover = building_path(target).with_name(f".{target.name}.99999.building")
    leftover.write_bytes(b"half a database")

    publish_snapshot(warehouse, target)

    assert not leftover.exists()
    assert snapshot_schemas(target) == {"marts", "dq"}


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        publish_snapshot(tmp_path / "absent.duckdb", tmp_path / "analytics.duckdb")
    assert list(tmp_path.iterdir()) == []


# An analyst in another process: open read-only, read all three tables, close, again, until told
# to stop. Plain duckdb, nothing else imported, so it starts at once.
READER = """
import json, os, sys
import duckdb

path, ready_file, stop_file = sys.argv[1:4]
seen, errors = [], []
while not os.path.exists(stop_file):
    try:
        with duckdb.connect(path, read_only=True) as con:
            marts_version = con.execute("select version from marts.build_version").fetchone()[0]
            dq_version = con.execute("select version from dq.build_version").fetchone()[0]
            rows = con.execute("select count(*) from marts.fct_training_enrolments").fetchone()[0]
        seen.append((marts_version, dq_version, rows))
        if len(seen) == 1:
            open(ready_file, "w").close()
    except Exception as error:
        errors.append(repr(error))
print(json.dumps({"seen": seen, "errors": errors}))
"""


def test_readers_see_the_old_or_the_new_snapshot_never_an_error_or_a_mix(tmp_path):
    rows = 200_000
    warehouse = make_warehouse(tmp_path / "training.duckdb", version=0, rows=rows)
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(warehouse, target)
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(target), str(tmp_path / f"ready{i}"), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
            assert time.monotonic() < deadline, "the readers never managed to read"
            assert all(r.poll() is None for r in readers), [r.communicate() for r in readers]
            time.sleep(0.05)
        published = [0]
        writing_until = time.monotonic() + 8
        while time.monotonic() < writing_until or len(published) < 6:
            version = published[-1] + 1
            make_warehouse(warehouse, version=version, rows=rows)
            publish_snapshot(warehouse, target)
            published.append(version)
    finally:
        stop.touch()
        outcomes = [reader.communicate(timeout=60) for reader in readers]

    for stdout, stderr in outcomes:
        assert stdout, stderr[-3000:]
        result = json.loads(stdout)
        assert result["errors"] == [], result["errors"][:3]
        for marts_version, dq_version, count in result["seen"]:
            assert marts_version == dq_version, "a reader saw marts of one build and dq of another"
            assert marts_version in published
            assert count == rows + marts_version, "a reader saw a table of another build"
        # The readers really overlapped the republishing: they saw several builds.
        assert len({seen[0] for seen in result["seen"]}) >= 3, (published, len(result["seen"]))


def test_asset_publishes_with_metadata(tmp_path):
    warehouse = make_warehouse(tmp_path / "training.duckdb")
    paths = PathsResource(
        raw_dir=str(tmp_path / "raw"),
        warehouse=str(warehouse),
        analytics_db=str(tmp_path / "out" / "analytics.duckdb"),
        reports_dir=str(tmp_path / "reports"),
    )

    result = dg.materialize(
        [analytics_snapshot], instance=dg.DagsterInstance.ephemeral(), resources={"paths": paths}
    )

    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["table_count"].value == metadata["tables_copied"].value == 5  # no snapshot before
    assert metadata["dagster/row_count"].value == metadata["rows_copied"].value == 1 + 1 + 1 + 1001 + 1
    assert metadata["bytes"].value == os.path.getsize(tmp_path / "out" / "analytics.duckdb")
    assert metadata["seconds"].value >= 0
    records = {r.data["table"]: r.data["rows"] for r in metadata["tables"].value.records}
    assert records["marts.fct_training_enrolments"] == 1001


def test_schema_is_read_from_the_table_name_dbt_gives_or_the_key():
    dbt_model = dg.AssetSpec("dim_region", metadata={"dagster/table_name": "training.marts.dim_region"})
    staging_model = dg.AssetSpec(
        ["marts", "stg_x"], metadata={"dagster/table_name": "training.staging.stg_x"}
    )
    python_asset = dg.AssetSpec(["dq", "validation_runs"])
    for spec, schema in [(dbt_model, "marts"), (staging_model, "staging"), (python_asset, "dq")]:
        assert schema_of(spec.key, spec.metadata) == schema
    assert schema_of(dg.AssetKey("loose"), {}) is None


def test_snapshot_is_downstream_of_every_marts_and_dq_table_in_the_code_location():
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    snapshot = dg.AssetKey(["publish", "analytics_snapshot"])
    upstream = graph.get(snapshot).parent_keys
    published = {
        node.key
        for node in graph.asset_nodes
        if node.key != snapshot and schema_of(node.key, node.metadata) in ("marts", "dq")
    }
    assert published <= upstream, f"not upstream of the snapshot: {sorted(published - upstream)}"
    assert set(published_table_keys()) == published
