"""Person matching (issue 14): who is probably behind a ledger row whose ID is rounded, invalid
or missing, among the registered household members of the same county.

Fellegi–Sunter scoring with Splink on DuckDB (docs/person_matching.md). Nothing is trained: the
u probabilities (two different people of a county agree by chance) are counted exactly from the
registered members, the m probabilities (the same person written twice agrees) are fixed below,
so the same warehouse always gives the same candidates. Candidates are proposals for a county to
check; they are never merged into any count. The output holds pseudonymous keys only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from orchestration.lib.quality.comments import comment_table

# The analysts' snapshot carries these (dbt documents the other dq tables).
TABLE_COMMENT = (
    "疑似本人候选 For each ledger row whose ID number is rounded, invalid or missing, up to three "
    "registered members of its county who may be that person (Splink, Fellegi–Sunter): pseudonymous "
    "keys only; never counted until the county corrects its ledger (docs/person_matching.md)."
)
COLUMN_COMMENTS = {
    "source_file": "Ledger file of the row, under raw/ (来源文件).",
    "sheet": "Sheet of the ledger row (工作表).",
    "row_number": "Row of the ledger row as Excel/WPS number it (行号).",
    "city_code": "City (市州) of the ledger row's county, GB/T 2260 code (市州代码).",
    "county_code": "County (县区) of the ledger row, GB/T 2260 code (县区代码).",
    "township_name": "Township (乡镇) as the ledger writes it.",
    "id_problem": "What is wrong with the row's ID number: rounded, invalid or missing (身份证号码问题).",
    "trainee_key": "Pseudonymous key of the candidate registered member (候选人员匿名键).",
    "household_key": "Pseudonymous key of the candidate's household (候选户匿名键).",
    "match_probability": "Probability that the row is this member (匹配概率), Fellegi–Sunter.",
    "match_weight": "Log-2 match weight behind the probability (匹配权重).",
    "agreed_fields": "Fields that agreed: name, village, township, sex, birth date, region (一致的字段).",
    "candidate_rank": "Rank of the candidate for the row, 1 the most likely (候选排名).",
    "is_proposed": "Rank 1 at or above the threshold: the member the review list proposes (是否建议核对).",
}

if TYPE_CHECKING:  # pandas and Splink load when matching runs, not with the definitions or reports
    import pandas as pd

TABLE = "dq.person_match_candidates"
THRESHOLD = 0.9  # a top candidate at or above this is proposed as the person
MIN_PROBABILITY = 0.01  # weaker candidates are not worth a reviewer's time
MAX_CANDIDATES = 3  # per ledger row

# m: the chance the same person's two rows agree (ledgers are typed from the household sheets,
# so agreement is the rule; the rest covers typos, a move to another village, a wrong cell).
M_EXACT = {"name": 0.91, "village": 0.90, "township": 0.95, "sex": 0.97, "id_region": 0.97}
M_NAME_ONE_EDIT = 0.08  # a character mistyped or a homophone
# the rest, 0.01: a name two or more characters off, in a name of two or three, is nearly always
# someone else's (at 0.04 the province world proposed, for a stranger's rounded ID, a member of
# another name who shared only the village and the birth date; docs/person_matching.md)
# What the ID's surviving digits say, one comparison with exclusive levels (an ID one edit away
# shares the birth date, so the two must not count twice): about half the broken ledger IDs are
# a typo away from the right one (check character, a letter, a dropped digit), most of the rest
# keep the birth date (rounded to 15 digits, impossible day of the right year). Surviving digits
# that contradict the member's ID entirely are someone else's number: the same person almost never.
M_ID_ONE_EDIT, M_BIRTH_DATE, M_BIRTH_YEAR_MONTH, M_ID_DIFFERENT = 0.45, 0.48, 0.04, 1e-4
M_BIRTH_YEAR = 1 - M_ID_ONE_EDIT - M_BIRTH_DATE - M_BIRTH_YEAR_MONTH - M_ID_DIFFERENT
U_ID_ONE_EDIT = 1e-6  # two people's IDs one edit apart: about one chance in a million
U_SEX = 0.5
U_FLOOR = 1e-7  # a field no two members share still gets a tiny u (log of zero)

# Ledger rows to match and the parts of their ID that survive (see docs/defects.md, ID numbers):
# a rounded number keeps its mantissa's digits but the last (rounded); an invalid ID is kept as typed.
LEDGER_SQL = """
with rows as (
    select source_file, sheet, row_number, city_code, county_code, township_name, village_name,
        trainee_name as person_name, id_number, id_status
    from staging.int_training_enrolments_checked
    where not is_valid_id and county_code is not null
),
digits as (
    select *,
        case
            when id_status = 'rounded' and regexp_extract(id_number, 'E\\+?([0-9]+)$', 1) = '17'
                then left(replace(split_part(id_number, 'E', 1), '.', ''),
                          length(replace(split_part(id_number, 'E', 1), '.', '')) - 1)
            when id_status not in ('rounded', 'missing') then id_number
        end as known_digits
    from rows
)
select *,
    case when regexp_full_match(left(known_digits, 6), '[0-9]{6}') then left(known_digits, 6) end
        as id_region,
    case when length(known_digits) >= 14 and regexp_full_match(substr(known_digits, 7, 8), '[0-9]{8}')
        then substr(known_digits, 7, 8) end as birth_text,
    case when id_status not in ('rounded', 'missing') and length(id_number) = 18
            and regexp_full_match(substr(id_number, 17, 1), '[0-9]')
        then case when cast(substr(id_number, 17, 1) as integer) % 2 = 1 then '男' else '女' end
    end as sex,
    case when id_status not in ('rounded', 'missing') then id_number end as id_text
from digits
"""

# The registered members (latest registration of each person) of the counties with rows to match.
MEMBERS_SQL = """
select trainee_key, household_key, city_code, county_code, township_name, village_name,
    member_name as person_name, coalesce(sex_from_id, sex) as sex, id_region_code as id_region,
    strftime(birth_date, '%Y%m%d') as birth_text, coalesce(id_number_18, id_number) as id_text
from staging.int_household_members_resolved
where is_latest_registration and county_code in (select county_code from match_ledger)
"""

# Only members that a blocking rule can pair with a ledger row go to Splink. Two IN lists, which
# DuckDB hashes, not one EXISTS with an OR inside, on which it compares every member with every
# ledger row (on the province: 1 s instead of 6).
BLOCKED_SQL = """
select * from members
where (county_code, person_name) in (select county_code, person_name from match_ledger)
    or (county_code, birth_text) in (select county_code, birth_text from match_ledger)
"""

COLUMNS = ["person_name", "village_name", "township_name", "sex", "birth_text", "id_region", "id_text"]


@dataclass
class MatchResult:
    ledger_rows: int
    members: int
    candidates: int
    proposed: int
    seconds: float


def _u_exact(con: duckdb.DuckDBPyConnection, expression: str) -> float:
    """Chance that two different members of one county agree on a value, pooled over counties:
    same-county pairs sharing it over all same-county pairs (members with the value known)."""
    (u,) = con.execute(f"""
        with known as (select county_code, {expression} as value from members where value is not null),
        shared as (select count(*) as n from known group by county_code, value),
        totals as (select count(*) as n from known group by county_code)
        select (select sum(n * (n - 1)) from shared) / nullif((select sum(n * (n - 1)) from totals), 0)
    """).fetchone()  # fmt: skip
    return max(float(u or 0), U_FLOOR)


def member_statistics(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The u probabilities counted from all members (view ``members``) and the prior."""
    fields = ("person_name", "village_name", "township_name", "birth_text", "id_region")
    stats = {c: _u_exact(con, c) for c in fields}
    stats["birth_year_month"] = _u_exact(con, "left(birth_text, 6)") - stats["birth_text"]
    stats["birth_year"] = (
        _u_exact(con, "left(birth_text, 4)") - stats["birth_text"] - stats["birth_year_month"]
    )
    (per_county,) = con.execute("select count(*) / count(distinct county_code) from members").fetchone()
    # one true person (at most) among the county's members
    stats["prior"] = 1 / max(float(per_county or 1), 1.0)
    return stats


def _levels(column: str, name: str, levels: list[tuple[str, str, float, float]], null_sql: str = "") -> dict:
    """A comparison: a null level, then (label, SQL, m, u) levels, then 'else' with the rest."""
    null_sql = null_sql or f'"{column}_l" is null or "{column}_r" is null'
    m_rest, u_rest = 1 - sum(lv[2] for lv in levels), 1 - sum(lv[3] for lv in levels)
    return {
        "output_column_name": name,
        "comparison_levels": [
            {"sql_condition": null_sql, "label_for_charts": "unknown",
             "is_null_level": True},
            *({"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}
              for label, sql, m, u in levels),
            {"sql_condition": "else", "label_for_charts": "different", "m_probability": m_rest,
             "u_probability": max(u_rest, U_FLOOR)},
        ],
    }  # fmt: skip


def settings(u: dict[str, float]) -> dict:
    u_year_month, u_year = u["birth_year_month"], u["birth_year"]
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": u["prior"],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.county_code = r.county_code and l.person_name = r.person_name"},
            # a mistyped name is still found when the birth date survives in the ID
            {"blocking_rule": "l.county_code = r.county_code and l.birth_text = r.birth_text"},
        ],
        "comparisons": [
            _levels("person_name", "name", [
                ("exact", '"person_name_l" = "person_name_r"', M_EXACT["name"], u["person_name"]),
                ("one edit", 'levenshtein("person_name_l", "person_name_r") <= 1', M_NAME_ONE_EDIT, 0.01),
            ]),
            _levels("village_name", "village", [
                ("exact", '"village_name_l" = "village_name_r"', M_EXACT["village"], u["village_name"])]),
            _levels("township_name", "township", [
                ("exact", '"township_name_l" = "township_name_r"', M_EXACT["township"], u["township_name"])]),
            _levels("sex", "sex", [("exact", '"sex_l" = "sex_r"', M_EXACT["sex"], U_SEX)]),
            _levels("id_region", "id_region", [
                ("exact", '"id_region_l" = "id_region_r"', M_EXACT["id_region"], u["id_region"])]),
            _levels("birth_text", "id_number", [
                ("one edit", 'damerau_levenshtein("id_text_l", "id_text_r") <= 1',
                 M_ID_ONE_EDIT, U_ID_ONE_EDIT),
                ("same birth date", '"birth_text_l" = "birth_text_r"', M_BIRTH_DATE, u["birth_text"]),
                ("year and month", 'left("birth_text_l", 6) = left("birth_text_r", 6)',
                 M_BIRTH_YEAR_MONTH, max(u_year_month, U_FLOOR)),
                ("year", 'left("birth_text_l", 4) = left("birth_text_r", 4)',
                 M_BIRTH_YEAR, max(u_year, U_FLOOR)),
            ], null_sql='("birth_text_l" is null or "birth_text_r" is null) '
                        'and ("id_text_l" is null or "id_text_r" is null)'),
        ],
        "additional_columns_to_retain": ["row_key", "trainee_key", "household_key"],
        # the mw_ columns and the birth dates give agreed_fields (in memory only, never written)
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
    }  # fmt: skip


# the comparisons agreed_fields lists when their evidence pointed to one person (positive weight)
FIELDS = ["name", "village", "township", "sex", "id_region"]


def agreed_fields(pair: dict) -> str:
    """The fields that agreed; the ID comparison as id_digits (one edit apart), birth_date or
    birth_year (year, or year and month)."""
    agreed = [f for f in FIELDS if pair[f"mw_{f}"] > 0]
    if pair["mw_id_number"] > 0:
        one_edit = math.isclose(pair["mw_id_number"], math.log2(M_ID_ONE_EDIT / U_ID_ONE_EDIT))
        same_date = pair["birth_text_l"] == pair["birth_text_r"]
        agreed.append("id_digits" if one_edit else "birth_date" if same_date else "birth_year")
    return ",".join(agreed)


def predict(ledger: pd.DataFrame, members: pd.DataFrame, u: dict[str, float]) -> pd.DataFrame:
    """Every blocked pair with its match probability (Splink, in-memory DuckDB)."""
    from splink import DuckDBAPI, Linker  # heavy: only when matching runs

    left = ledger.assign(unique_id=ledger["row_key"], trainee_key=None, household_key=None)
    right = members.assign(unique_id=members["trainee_key"], row_key=None)
    keep = ["unique_id", "row_key", "trainee_key", "household_key", "county_code", *COLUMNS]
    db_api = DuckDBAPI(duckdb.connect())
    inputs = [
        db_api.register(left[keep], table_name="ledger_rows"),
        db_api.register(right[keep], table_name="registered_members"),
    ]
    linker = Linker(inputs, settings(u), log_level="WARNING")
    pairs = linker.inference.predict().as_pandas_dataframe()
    # either input may come out on the left: take each key from the side that has it
    pairs["row_key"] = pairs["row_key_l"].fillna(pairs["row_key_r"])
    pairs["trainee_key"] = pairs["trainee_key_r"].fillna(pairs["trainee_key_l"])
    pairs["household_key"] = pairs["household_key_r"].fillna(pairs["household_key_l"])
    pairs["agreed_fields"] = [agreed_fields(pair) for pair in pairs.to_dict("records")]
    return pairs[
        ["row_key", "trainee_key", "household_key", "match_probability", "match_weight", "agreed_fields"]
    ]


def match(con: duckdb.DuckDBPyConnection) -> MatchResult:
    """Build dq.person_match_candidates from the staging tables on ``con`` (a write connection)."""
    started = time.perf_counter()
    # temporary tables of this connection only: the ledger rows (with names and IDs) never persist
    con.execute(f"""
        create or replace temp table match_ledger as
        select *, cast(row_number() over (order by source_file, sheet, row_number) as varchar) as row_key
        from ({LEDGER_SQL})
    """)  # fmt: skip
    ledger = con.execute("select * from match_ledger").df()
    con.execute(f"create or replace temp view members as {MEMBERS_SQL}")
    u = member_statistics(con)
    (member_count,) = con.execute("select count(*) from members").fetchone()
    members = con.execute(BLOCKED_SQL).df()
    con.execute("drop view members")
    if len(ledger) and len(members):
        pairs = predict(ledger, members, u)
    else:
        import pandas as pd

        text, number = pd.Series(dtype="string"), pd.Series(dtype="float64")
        pairs = pd.DataFrame(
            {"row_key": text, "trainee_key": text, "household_key": text, "match_probability": number,
             "match_weight": number, "agreed_fields": text}
        )  # fmt: skip
    con.register("pairs", pairs)
    con.execute("create schema if not exists dq")
    con.execute(f"""
        create or replace table {TABLE} as
        with ranked as (
            select ledger.source_file, ledger.sheet, ledger.row_number, ledger.city_code,
                ledger.county_code, ledger.township_name, ledger.id_status as id_problem,
                pairs.trainee_key, pairs.household_key,
                round(pairs.match_probability, 6) as match_probability,
                round(pairs.match_weight, 3) as match_weight, pairs.agreed_fields,
                row_number() over (
                    partition by pairs.row_key order by pairs.match_probability desc, pairs.trainee_key
                ) as candidate_rank
            from pairs join match_ledger as ledger on pairs.row_key = ledger.row_key
        )
        select *, candidate_rank = 1 and match_probability >= {THRESHOLD} as is_proposed
        from ranked
        where candidate_rank <= {MAX_CANDIDATES} and match_probability >= {MIN_PROBABILITY}
        order by source_file, sheet, row_number, candidate_rank
    """)  # fmt: skip
    con.unregister("pairs")
    con.execute("drop table match_ledger")
    comment_table(con, TABLE, TABLE_COMMENT, COLUMN_COMMENTS)
    count, proposed = con.execute(f"select count(*), count(*) filter (is_proposed) from {TABLE}").fetchone()
    return MatchResult(len(ledger), member_count, count, proposed, time.perf_counter() - started)
