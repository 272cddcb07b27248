"""Old 15-digit ID numbers identify their person (issue 14, item 1), on a built copy of the sample.

The copy adds one county ledger file (csv, the way a bureau sends a supplement) with two rows
that copy a clean course of 康乐县: one for a registered household member written under the old
15-digit form of their ID, one for a 15-digit ID that no household sheet holds. The member and
the course are chosen from the session's sample build; the copy is built once by
`python -m orchestration.run` in a subprocess.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import run_env, run_pipeline

KANGLE = "622922"
SUPPLEMENT = "training_ledgers/康乐县人社局2015年培训台账补录（旧身份证号）.csv"
HEADER = (
    "序号,县区,乡（镇）,村,姓名,身份证号码,培训项目,培训工种,培训机构,开班日期,结业日期,培训学时,"
    "是否结业,是否取得证书,证书编号,鉴定等级,是否转移就业,就业单位,补贴金额(元),资金来源,培训满意度,用工满意度"
)
# an old ID of 康乐县 that is on no household sheet: born 1979-03-05, sequence 987
STRANGER_OLD_ID = KANGLE + "790305987"


def old_form(id_18: str) -> str:
    """The first-generation ID of a person born in the 1900s: the century and check digit dropped."""
    return id_18[:6] + id_18[8:17]


def upgraded(old_15: str) -> str:
    """GB 11643's upgrade, computed here with python-stdnum (independent of the SQL macro)."""
    first_17 = old_15[:6] + "19" + old_15[6:]
    return first_17 + ric.calc_check_digit(first_17 + "0")


def pick_member_and_course(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict]:
    member = con.execute(
        """
        select m.id_number, m.member_name, m.township_name, m.village_name, m.trainee_key, m.household_key
        from staging.int_household_members_resolved as m
        where m.county_code = ? and m.id_status = 'valid' and m.is_latest_registration
          and m.id_number like ? || '19%'
          and m.trainee_key not in (select trainee_key from staging.int_training_enrolments_checked)
        order by m.source_file, m.sheet, m.row_number
        limit 1
        """,
        [KANGLE, KANGLE],
    ).fetchone()
    course = con.execute(
        """
        select programme_name, trade, institution_text, start_date, end_date
        from staging.int_training_enrolments_deduplicated
        where county_code = ? and programme_code = 'EMPLOY' and is_counted and len(row_checks) = 0
        order by source_file, sheet, row_number
        limit 1
        """,
        [KANGLE],
    ).fetchone()
    assert member and course, "the sample has no untrained member or clean course in 康乐县"
    keys = ("id_number", "name", "township", "village", "trainee_key", "household_key")
    return dict(zip(keys, member, strict=True)), dict(
        zip(("programme", "trade", "institution", "start", "end"), course, strict=True)
    )


def write_supplement(raw: Path, member: dict, course: dict) -> None:
    def line(n: int, township: str, village: str, name: str, id_text: str) -> str:
        cells = [str(n), "康乐县", township, village, name, id_text, course["programme"], course["trade"],
                 course["institution"], course["start"].isoformat(), course["end"].isoformat(), "",
                 "是", "否", "", "", "否", "", "1500", "就业资金", "满意", ""]  # fmt: skip
        return ",".join(cells)

    lines = [
        "康乐县2015年精准扶贫劳动力培训实名制台账（补录）" + "," * 21,
        HEADER,
        line(1, member["township"], member["village"], member["name"], old_form(member["id_number"])),
        line(2, member["township"], member["village"], "马立新", STRANGER_OLD_ID),
    ]
    (raw / SUPPLEMENT).write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


@pytest.fixture(scope="module")
def planted(sample_build, tmp_path_factory):
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        member, course = pick_member_and_course(con)
    root = tmp_path_factory.mktemp("old_ids")
    raw = root / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    write_supplement(raw, member, course)
    outcome = run_pipeline(run_env(root, raw))
    assert outcome.returncode == 0, outcome.output[-5000:]
    con = duckdb.connect(str(root / "warehouse" / "training.duckdb"), read_only=True)
    yield con, member
    con.close()


def ledger_row(con: duckdb.DuckDBPyConnection, row_number: int) -> dict:
    cursor = con.execute(
        """
        select id_status, is_valid_id, id_number_18, trainee_key, household_key, is_registered_member,
               is_counted, row_checks, disqualified_by
        from staging.int_training_enrolments_deduplicated
        where source_file = ? and row_number = ?
        """,
        [SUPPLEMENT, row_number],
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def findings_at(con: duckdb.DuckDBPyConnection, row_number: int) -> set[str]:
    rows = con.execute(
        "select check_name from dq.findings where source_file = ? and row_number = ?",
        [SUPPLEMENT, row_number],
    ).fetchall()
    return {name for (name,) in rows}


def test_a_registered_person_trained_under_the_old_id_counts_as_registered(planted):
    con, member = planted
    row = ledger_row(con, 3)  # title, header, then the member's row
    assert upgraded(old_form(member["id_number"])) == member["id_number"]
    assert row["id_status"] == "old_15_digit" and row["is_valid_id"]
    assert row["id_number_18"] == member["id_number"]
    assert row["trainee_key"] == member["trainee_key"]
    assert row["is_registered_member"] and row["household_key"] == member["household_key"]
    assert row["is_counted"] and "trainee_not_registered" not in row["row_checks"]
    assert row["disqualified_by"] == []
    # the sheet still has to be corrected: the old number is a finding, the person is not a stranger
    assert findings_at(con, 3) == {"invalid_id_number"}
    (detail,) = con.execute(
        "select detail from dq.findings where source_file = ? and row_number = 3", [SUPPLEMENT]
    ).fetchone()
    assert "15 位旧号码" in detail and member["id_number"] not in detail
    (outcome,) = con.execute(
        "select outcome from dq.ledger_record_outcomes where source_file = ? and row_number = 3", [SUPPLEMENT]
    ).fetchone()
    assert outcome == "counted"


def test_an_old_id_of_nobody_registered_is_an_identified_stranger(planted):
    con, _ = planted
    row = ledger_row(con, 4)
    assert row["id_status"] == "old_15_digit"
    assert row["id_number_18"] == upgraded(STRANGER_OLD_ID)
    assert not row["is_registered_member"]
    assert findings_at(con, 4) == {"invalid_id_number", "trainee_not_registered"}


def test_the_member_is_one_person_in_the_marts(planted):
    con, member = planted
    (persons,) = con.execute(
        "select count(*) from marts.dim_trainee where trainee_key = ?", [member["trainee_key"]]
    ).fetchone()
    # the member had no course before (pick_member_and_course): the supplement's row is theirs
    (enrolments, households) = con.execute(
        "select count(*), list(distinct household_key) from marts.fct_training_enrolments"
        " where trainee_key = ?",
        [member["trainee_key"]],
    ).fetchone()
    assert persons == 1 and enrolments == 1
    assert households != ["UNKNOWN"] and len(households) == 1
