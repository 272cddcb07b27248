"""Findings are complete by construction: whatever cell is blank, every dq.findings row says in
Chinese what is wrong, where, and how bad (issue 12).

One rebuild covers "each column NULL in turn": in a copy of the sample warehouse, row i of
every raw table (in lineage order) loses column i of the source's contract, then the
Dagster-free dbt CLI rebuilds staging and everything after it. A blank 培训项目 at an
institution whose qualification had run out (a finding whose detail used to be NULL, which
stopped publication) is planted on another ledger row of the same copy.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.sources import SOURCES
from tests.quality.test_record_outcomes import expired_institution, plain_rows, rebuild_copy

CJK = re.compile(r"[\u4e00-\u9fff]")


def blank_one_column_per_row(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Row i of each raw table gets column i set NULL; returns the rows blanked per table."""
    blanked: dict[str, list] = {}
    for source in SOURCES.values():
        have = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [source.table],
            ).fetchall()
        }
        columns = [c.name for c in source.all_columns if c.name in have]
        rows = con.execute(
            f"select source_file, sheet, row_number from raw.{source.table} "
            "order by source_file, sheet, row_number limit ?",
            [len(columns)],
        ).fetchall()
        for column, place in zip(columns, rows, strict=False):
            con.execute(
                f"update raw.{source.table} set {column} = null "
                "where source_file = ? and sheet = ? and row_number = ?",
                list(place),
            )
        blanked[source.table] = list(zip(columns, rows, strict=False))
    return blanked


@pytest.fixture(scope="module")
def findings(sample_build, tmp_path_factory):
    state: dict = {}

    def change(con):
        state["blanked"] = blank_one_column_per_row(con)
        touched = {place for _, place in state["blanked"]["training_records"]}
        place = next(row for row in plain_rows(con, 100) if row not in touched)
        con.execute(
            "update raw.training_records set programme_name = null, start_date = '2015-11-03', "
            "institution = ? where source_file = ? and sheet = ? and row_number = ?",
            [expired_institution(con), *place],
        )
        state["expired_blank_programme"] = place

    warehouse = rebuild_copy(sample_build.settings.warehouse, tmp_path_factory.mktemp("blanks"), change)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select check_name, severity, county_code, source_file, sheet, row_number, detail from dq.findings"
    ).fetchall()
    con.close()
    return rows, state


def test_every_column_was_blanked_somewhere(findings):
    _, state = findings
    for source in SOURCES.values():
        assert len(state["blanked"][source.table]) >= len(source.columns), source.table


def test_every_finding_has_a_chinese_detail_a_place_and_a_severity(findings):
    rows, _ = findings
    assert rows
    incomplete = [
        row
        for row in rows
        if row[1] not in ("error", "warning")
        or not (row[6] and row[6].strip() and CJK.search(row[6]))
        or not (row[2] is not None or (row[3] is not None and row[4] is not None and row[5] is not None))
    ]
    assert incomplete == []


def test_blank_programme_at_an_expired_institution_is_explained(findings):
    rows, state = findings
    here = {
        row[0]: row[6] for row in rows if (row[3], row[4], row[5]) == tuple(state["expired_blank_programme"])
    }
    assert {"institution_qualification_expired", "unknown_programme"} <= set(here)
    assert "不能计入任务" in here["institution_qualification_expired"]
    assert "培训项目" in here["unknown_programme"]
