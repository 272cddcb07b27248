"""The analysts' snapshot explains itself: comments on every table and column, names beside codes."""

from __future__ import annotations

import re

import duckdb
import pytest

# A Chinese term in the comment: analysts search the snapshot for the words of the documents.
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def snapshot(sample_build):
    con = duckdb.connect(str(sample_build.settings.analytics_db), read_only=True)
    yield con
    con.close()


@pytest.mark.slow
def test_every_table_and_column_of_the_snapshot_has_a_comment_with_its_chinese_term(snapshot):
    tables = snapshot.execute(
        "select schema_name || '.' || table_name, comment from duckdb_tables() "
        "where database_name = current_database()"
    ).fetchall()
    columns = snapshot.execute(
        "select schema_name || '.' || table_name || '.' || column_name, comment from duckdb_columns() "
        "where database_name = current_database()"
    ).fetchall()
    assert len(tables) > 30 and len(columns) > 500, "the snapshot is missing most of its tables"
    uncommented = [name for name, comment in tables + columns if not (comment or "").strip()]
    assert uncommented == [], f"{len(uncommented)} without a comment, e.g. {uncommented[:10]}"
    no_chinese = [name for name, comment in tables + columns if not CJK.search(comment)]
    assert no_chinese == [], f"{len(no_chinese)} comments without the Chinese term, e.g. {no_chinese[:10]}"
    # dbt doc blocks are rendered, not copied as Jinja
    assert not [name for name, comment in columns if "{{" in comment]


@pytest.mark.slow
def test_counts_in_the_snapshot_are_bigint_not_hugeint(snapshot):
    hugeint = snapshot.execute(
        "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
        "where database_name = current_database() and data_type = 'HUGEINT'"
    ).fetchall()
    assert hugeint == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "table",
    ["mart_target_attainment_monthly", "mart_city_attainment_monthly", "mart_province_attainment_monthly"],
)
def test_attainment_marts_name_their_programme(snapshot, table):
    wrong, total = snapshot.execute(
        f"""
        select
            count(*) filter (where m.programme_name_zh is distinct from p.programme_name_zh),
            count(*)
        from marts.{table} as m
        left join marts.dim_programme as p using (programme_code)
        """
    ).fetchone()
    assert total > 0 and wrong == 0


@pytest.mark.slow
def test_findings_carry_place_and_programme_names_beside_their_codes(snapshot):
    wrong = snapshot.execute(
        """
        select
            count(*) filter (where f.county_name is distinct from county.region_name),
            count(*) filter (where f.city_name is distinct from city.region_name),
            count(*) filter (where f.programme_name_zh is distinct from p.programme_name_zh),
            count(*) filter (where f.township_name is distinct from f.township),
            count(*) filter (where f.village_name is distinct from f.village)
        from dq.findings as f
        left join marts.dim_region as county on f.county_code = county.region_code
        left join marts.dim_region as city on f.city_code = city.region_code
        left join marts.dim_programme as p on f.programme_code = p.programme_code
        """
    ).fetchone()
    assert wrong == (0, 0, 0, 0, 0)
    (named,) = snapshot.execute(
        "select count(*) from dq.findings where county_name is not null and programme_name_zh is not null"
    ).fetchone()
    assert named > 0, "no finding names its county and programme"
