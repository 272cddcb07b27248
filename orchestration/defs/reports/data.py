"""What a report says, read from the warehouse: plain queries, no Dagster, no formatting.

A report is "as of" the end of its month: a finding counts from the month of the record it is
about (``dq.findings.as_of_month``: the course's start, the report's month, the collection or
filing date; no date = always), so "last month" is the same query one month earlier and a
rebuilt warehouse gives the same reports.

Only ``people_at`` reads personal data (names, ID numbers from staging), and only for the rows
of one city's own findings; ID numbers leave it masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.defs.quality.catalog import CHECK_BY_NAME
from orchestration.defs.quality.masking import mask_id

PROVINCE_CODE = "620000"
PROVINCE_NAME = "甘肃省"


@dataclass(frozen=True)
class City:
    code: str
    name: str


def month_start(month: str) -> date:
    """'2015-09' → 2015-09-01."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def previous_month(month: str) -> str:
    first = month_start(month)
    return f"{first.year - 1}-12" if first.month == 1 else f"{first.year}-{first.month - 1:02d}"


def month_zh(month: str) -> str:
    first = month_start(month)
    return f"{first.year}年{first.month}月"


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_month(con: duckdb.DuckDBPyConnection, month: str) -> bool:
    """Whether the warehouse has anything to report for the month (a target or a finding of it)."""
    (found,) = con.execute(
        "select exists(select 1 from marts.mart_target_attainment_monthly where month = ?) "
        "or exists(select 1 from dq.findings where as_of_month = ?)",
        [month_start(month), month_start(month)],
    ).fetchone()
    return bool(found)


def data_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every month that has a target or a finding, as 'YYYY-MM', in order."""
    rows = con.execute(
        "select distinct strftime(month, '%Y-%m') from marts.mart_target_attainment_monthly "
        "union select distinct strftime(as_of_month, '%Y-%m') from dq.findings where as_of_month is not null "
        "order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def cities(con: duckdb.DuckDBPyConnection, month: str) -> list[City]:
    """Cities with a target or a finding as of the month, by code."""
    rows = con.execute(
        """
        with codes as (
            select distinct city_code from marts.mart_target_attainment_monthly where month = $month
            union
            select distinct city_code from dq.findings
            where city_code is not null and (as_of_month is null or as_of_month <= $month)
        )
        select codes.city_code, regions.name_zh
        from codes
        inner join reference.regions as regions on codes.city_code = regions.region_code
        order by codes.city_code
        """,
        {"month": month_start(month)},
    ).fetchall()
    return [City(code, name) for code, name in rows]


def counties(con: duckdb.DuckDBPyConnection, city_code: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "select region_code, name_zh from reference.regions where level = 'county' and city_code = ? "
        "order by region_code",
        [city_code],
    ).fetchall()
    return [(code, name) for code, name in rows]


def findings(con: duckdb.DuckDBPyConnection, month: str, city_code: str | None = None) -> list[dict]:
    """Findings as of the end of the month (of one city, or all), newest first within a check."""
    where = "findings.city_code = $city" if city_code else "true"
    params = {"month": month_start(month)}
    if city_code:
        params["city"] = city_code
    return _dicts(
        con.execute(
            f"""
            select
                findings.*,
                counties.name_zh as county_name,
                coalesce(findings.as_of_month = $month, false) as is_new
            from dq.findings as findings
            left join reference.regions as counties on findings.county_code = counties.region_code
            where {where} and (as_of_month is null or as_of_month <= $month)
            order by check_order, findings.county_code, source_file, sheet, row_number, entity_key
            """,
            params,
        )
    )


def finding_counts(
    con: duckdb.DuckDBPyConnection, month: str
) -> dict[tuple[str | None, str | None, str], int]:
    """(city_code, county_code, check_name) → findings as of the end of the month, all cities."""
    rows = con.execute(
        "select city_code, county_code, check_name, count(*) from dq.findings "
        "where as_of_month is null or as_of_month <= ? group by all",
        [month_start(month)],
    ).fetchall()
    return {(city, county, check): n for city, county, check, n in rows}


def attainment(con: duckdb.DuckDBPyConnection, month: str, city_code: str) -> list[dict]:
    """The city's counties × programmes for the month: target, done so far, rate, pro-rata line."""
    return _dicts(
        con.execute(
            """
            select
                attainment.county_code,
                coalesce(attainment.county_name, attainment.county_code) as county_name,
                attainment.programme_code,
                programmes.programme_name_zh,
                attainment.annual_target,
                attainment.enrolled_in_month,
                attainment.enrolled_ytd,
                attainment.attainment_rate,
                attainment.expected_rate,
                attainment.gap,
                attainment.reported_ytd,
                attainment.report_minus_ledger
            from marts.mart_target_attainment_monthly as attainment
            left join marts.dim_programme as programmes
                on attainment.programme_code = programmes.programme_code
            where attainment.city_code = ? and attainment.month = ?
            order by attainment.county_code, programmes.sort_order
            """,
            [city_code, month_start(month)],
        )
    )


def city_attainment(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    """Every city × programme for the month (mart_city_attainment_monthly)."""
    return _dicts(
        con.execute(
            """
            select
                attainment.city_code,
                coalesce(attainment.city_name, attainment.city_code) as city_name,
                attainment.programme_code,
                programmes.programme_name_zh,
                attainment.annual_target,
                attainment.enrolled_ytd,
                attainment.attainment_rate,
                attainment.expected_rate,
                attainment.gap,
                attainment.reported_ytd,
                attainment.report_minus_ledger,
                attainment.counties,
                attainment.counties_behind
            from marts.mart_city_attainment_monthly as attainment
            left join marts.dim_programme as programmes
                on attainment.programme_code = programmes.programme_code
            where attainment.month = ?
            order by attainment.city_code, programmes.sort_order
            """,
            [month_start(month)],
        )
    )


def people_at(
    con: duckdb.DuckDBPyConnection, rows: list[dict]
) -> dict[tuple[str, str, int], tuple[str, str]]:
    """(source_file, sheet, row_number) → (name, masked ID) for the findings about a person's row.

    Reads staging (names, ID numbers) for exactly these rows, and masks the ID here.
    """
    wanted = {
        (r["source_file"], r["sheet"], r["row_number"])
        for r in rows
        if CHECK_BY_NAME[r["check_name"]].about_a_row and r["row_number"] is not None
    }
    if not wanted:
        return {}
    con.execute(
        "create or replace temp table report_rows (source_file varchar, sheet varchar, row_number integer)"
    )
    con.executemany("insert into report_rows values (?, ?, ?)", sorted(wanted))
    found = con.execute(
        """
        with people as (
            select source_file, sheet, row_number, member_name as person_name, id_number
            from staging.stg_household_sheets__members
            union all
            select source_file, sheet, row_number, trainee_name as person_name, id_number
            from staging.stg_training_ledgers__records
        )
        select people.source_file, people.sheet, people.row_number, people.person_name, people.id_number
        from people
        inner join report_rows using (source_file, sheet, row_number)
        """
    ).fetchall()
    con.execute("drop table report_rows")
    return {
        (f, s, n): (name or "", str(mask_id(number)) if number else "") for f, s, n, name, number in found
    }
