"""Models rewritten for speed return exactly what their straightforward form returned.

Each file of dbt_project/analyses/slow_paths/ is a model as it was before a rewrite for speed
(issue 16). dbt compiles them (an analysis is compiled, never built); the compiled query runs
on the sample warehouse beside the model's table, and the two must hold the same columns and
the same rows, duplicates included.

The sample has no person registered twice and no need placed by its labour category alone, so
the fixture first adds such rows to a copy of the sample (a second sheet registering members
again, earlier, later or undated; needs no keyword matches; a need left blank) and rebuilds the
rewritten models there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.transform.duckdb_pii_plugin import hmac_macro_sql
from orchestration.lib.transform.project import dbt_executable
from orchestration.resources import DBT_PROJECT_DIR, pii_key
from orchestration.settings import OFFLINE_ENV

SLOW_PATHS = sorted((DBT_PROJECT_DIR / "analyses" / "slow_paths").glob("slow_*.sql"))
REBUILT = (
    "int_household_id_numbers_validated int_household_members_resolved int_training_needs_classified "
    "mart_village_work_list mart_report_gap_bridge"
)

# Forty members registered again on another sheet: ten earlier, ten later, ten undated, ten on
# the same day (the tie is broken by file, sheet and row); every fourth with a need no rule's
# keyword names, every seventh a new labourer with the need left blank, every fifth with no household number.
PLANT_REGISTRATIONS = """
insert into raw.household_members by name
select
    * exclude (
        n, source_file, sheet, row_number, collected_on, training_need, has_training_need,
        household_number, labour_category
    ),
    'fast_paths/再次登记.xlsx' as source_file,
    'Sheet1' as sheet,
    row_number() over (order by source_file, sheet, row_number)::integer + 1 as row_number,
    case n % 4
        when 0 then strftime(cast(collected_on as date) - interval 30 day, '%Y-%m-%d')
        when 1 then strftime(cast(collected_on as date) + interval 30 day, '%Y-%m-%d')
        when 2 then null
        else collected_on
    end as collected_on,
    case when n % 7 = 0 then null when n % 4 = 0 then '想学点本事' else training_need end as training_need,
    '是' as has_training_need,
    case when n % 7 = 0 then '新增劳动力' else labour_category end as labour_category,
    case when n % 5 = 0 then null else household_number end as household_number
from (
    select *, row_number() over (order by source_file, sheet, row_number) as n
    from raw.household_members
    where labour_category in ('输转就业劳动力', '两后生', '从事农业生产和服务的劳动力')
)
where n <= 40
"""


def _dbt(*arguments: str, root: Path, env: dict[str, str]) -> None:
    command = [dbt_executable(), *arguments]
    command += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    done = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def compiled(sample_build, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of the sample warehouse with the planted rows, the rewritten models rebuilt on it,
    and the compiled slow path of each."""
    root = tmp_path_factory.mktemp("fast_paths")
    warehouse = root / "training.duckdb"  # the file name is the catalog the compiled SQL names
    shutil.copyfile(sample_build.settings.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(PLANT_REGISTRATIONS)
    env = {**os.environ, **OFFLINE_ENV, "TRAINING_WAREHOUSE": str(warehouse)}
    _dbt("run", "--select", *REBUILT.split(), root=root, env=env)
    _dbt("compile", "--select", "path:analyses/slow_paths", root=root, env=env)
    out = root / "target" / "compiled" / "gansu_training" / "analyses" / "slow_paths"
    queries = {
        path.stem.removeprefix("slow_"): (out / path.name).read_text(encoding="utf-8") for path in SLOW_PATHS
    }
    return warehouse, queries


def test_every_slow_path_names_a_model():
    assert SLOW_PATHS, "no slow paths found"
    for path in SLOW_PATHS:
        model = path.stem.removeprefix("slow_")
        assert list((DBT_PROJECT_DIR / "models").rglob(f"{model}.sql")), f"{path.name}: no model {model}"


@pytest.mark.parametrize("model", [path.stem.removeprefix("slow_") for path in SLOW_PATHS])
def test_the_model_returns_what_its_slow_path_returns(compiled, model):
    warehouse, queries = compiled
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(hmac_macro_sql(pii_key()))  # the pseudonymous keys of both sides
        con.execute(f"create temp table slow as {queries[model]}")
        fast = f"{'marts' if model.startswith(('mart_', 'fct_', 'dim_')) else 'staging'}.{model}"
        slow_columns = con.execute("select column_name, column_type from (describe slow)").fetchall()
        fast_columns = con.execute(f"select column_name, column_type from (describe {fast})").fetchall()
        assert fast_columns == slow_columns
        rows = con.execute("select count(*) from slow").fetchone()[0]
        assert rows > 0, f"the sample gives {model} no rows: the comparison would prove nothing"
        assert con.execute(f"select count(*) from {fast}").fetchone()[0] == rows
        only_slow = con.execute(f"select count(*) from (from slow except all from {fast})").fetchone()[0]
        only_fast = con.execute(f"select count(*) from (from {fast} except all from slow)").fetchone()[0]
        assert (only_slow, only_fast) == (0, 0), f"{model}: {only_slow} rows only slow, {only_fast} only fast"


def test_the_planted_rows_reach_the_cases_the_sample_lacks(compiled):
    """Without them the comparison above would not see the flags or the category rule work."""
    warehouse, _ = compiled
    with duckdb.connect(str(warehouse), read_only=True) as con:
        members = con.execute(
            "select count_if(not is_latest_registration), count_if(is_registered_more_than_once), "
            "count_if(household_key is null) from staging.int_household_members_resolved"
        ).fetchone()
        rules = dict(
            con.execute(
                "select coalesce(classification_rule, unclassified_reason), count(*) "
                "from staging.int_training_needs_classified group by all"
            ).fetchall()
        )
    assert members[0] >= 30 and members[1] >= 60 and members[2] >= 8
    assert rules.get("labour_category", 0) >= 5 and rules.get("need_not_described", 0) >= 5


def test_the_sample_reaches_both_branches_of_the_rewritten_marts(compiled):
    """The work list's institutions (listed once per want) and the gap bridge's two report levels
    (matched by a key, not an OR): the comparison above proves something only if both occur."""
    warehouse, _ = compiled
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with_institutions, without, wants = con.execute(
            "select count_if(approved_institution_count > 0), count_if(approved_institution_count = 0), "
            "count(distinct (year, county_code, desired_trade, programme_code)) "
            "from marts.mart_village_work_list"
        ).fetchone()
        levels = dict(
            con.execute(
                "select report_level, count_if(enrolled_ytd > 0) "
                "from marts.mart_report_gap_bridge group by all"
            ).fetchall()
        )
    assert with_institutions > 0 and without > 0 and wants < with_institutions + without
    assert levels.get("county", 0) > 0 and levels.get("township", 0) > 0, levels
