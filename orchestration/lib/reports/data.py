"""What a report says, read from the warehouse: plain queries, no Dagster, no formatting.

A report is "as of" the end of its month: a finding counts from the month of the record it is
about (``dq.findings.as_of_month``: the course's start, the report's month, the collection or
filing date; a finding without a date of its own is dated by its file, see docs/defects.md
"Where a finding points, and its period"), so "last month" is the same filter one month
earlier and a rebuilt warehouse gives the same reports.

``ReportData`` reads each table once per run (dq.findings, the attainment marts and the regions
are a few thousand rows at province scale) and hands each report exactly the rows it is built
from (``CityInputs``, ``ProvinceInputs``): a query per city × month cost a round trip each, and
the people behind the findings a scan of 4 million staging rows each.

Only ``people_at``, ``read_work_list`` and ``read_match_candidates`` read personal data (names, ID
numbers from the staging tables): the people of findings' rows, of the village work list and of
the person-matching review list. ID numbers leave them
masked, and a city's inputs hold only the people of that city. ``work_list_digests`` reads the
work lists' names and IDs too, into one number per city: nothing personal leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property

import duckdb

from orchestration.lib.quality.catalog import CHECK_BY_NAME
from orchestration.lib.quality.masking import mask_id

PROVINCE_CODE = "620000"
PROVINCE_NAME = "甘肃省"

RowKey = tuple[str, str, int]  # (source_file, sheet, row_number): a row of a raw sheet


@dataclass(frozen=True)
class Corrections:
    """Who takes corrections, and by which day of the month after the report's month they are
    due (settings TRAINING_REPORT_CONTACT, TRAINING_REPORT_DEADLINE_DAY); printed at the top of
    every city report. Part of a city's inputs, so a new contact or day rewrites the reports."""

    contact: str = ""
    deadline_day: int | None = None


@dataclass(frozen=True)
class City:
    code: str
    name: str


@dataclass(frozen=True)
class WorkList:
    """A city's village work list of a year, as a report carries it.

    ``digest`` stands for every row and column the list shows (work_list_digests), so deciding
    whether a report is up to date reads no row; ``rows`` (names, masked IDs) are read only for
    a report that is written (ReportData.with_work_list_rows). At province scale reading and
    fingerprinting each city's list took about 5 s a city on every run, changed or not."""

    year: int
    city_code: str
    digest: str
    rows: list[dict] | None = None

    def fingerprint_value(self) -> dict:
        return {"year": self.year, "city_code": self.city_code, "digest": self.digest}


@dataclass(frozen=True)
class CityInputs:
    """Everything one city's report for one month is built from."""

    month: str
    city: City
    counties: list[tuple[str, str]]  # (code, name) of all the city's counties, by code
    now: list[dict]  # the city's findings as of the end of the month
    before: list[dict]  # ... and as of the end of the month before
    attainment: list[dict]  # the city's counties × programmes for the month
    people: dict[RowKey, tuple[str, str]]  # (name, masked ID) of the rows of ``now`` about a person
    townships: list[dict] = field(default_factory=list)  # the city's townships × programmes for the month
    forecast: list[dict] = field(default_factory=list)  # the city's counties × programmes at the month
    forecast_trend: list[dict] = field(default_factory=list)  # the city × programmes, January to the month
    # the city's village work list of the month's year (its rows read only to write the report);
    # only in the report of the year's latest month with data (work_list_month), see city_inputs
    work_list: WorkList | None = None
    work_list_month: str | None = None
    # candidates for the city's ledger rows with broken IDs (read_match_candidates), masked IDs
    match_candidates: list[dict] = field(default_factory=list)
    corrections: Corrections = field(default_factory=Corrections)

    @property
    def work_list_rows(self) -> list[dict]:
        if self.work_list is None:
            return []
        if self.work_list.rows is None:
            raise ValueError(f"{self.city.code} {self.month}: the work list's rows were not read")
        return self.work_list.rows


@dataclass(frozen=True)
class ProvinceInputs:
    """Everything the province summary for one month is built from: counts, no person."""

    month: str
    cities: list[City]
    now: list[dict]  # findings as of the end of the month, only what is counted (_COUNTED)
    before: list[dict]
    attainment: list[dict]  # every city × programme for the month
    reporting: list[dict] = field(default_factory=list)  # every county's progress reports, Jan. to the month
    forecast: list[dict] = field(default_factory=list)  # every city × programme at the month
    forecast_trend: list[dict] = field(
        default_factory=list
    )  # the province × programmes, January to the month
    # county rows of marts.mart_village_work_summary of the month's year: counts, no person
    work_summary: list[dict] = field(default_factory=list)


def month_start(month: str) -> date:
    """'2015-09' → 2015-09-01."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def previous_month(month: str) -> str:
    first = month_start(month)
    return f"{first.year - 1}-12" if first.month == 1 else f"{first.year}-{first.month - 1:02d}"


def next_month(month: str) -> str:
    first = month_start(month)
    return f"{first.year + 1}-01" if first.month == 12 else f"{first.year}-{first.month + 1:02d}"


def month_zh(month: str) -> str:
    first = month_start(month)
    return f"{first.year}年{first.month}月"


def gap_persons(target: int | None, done: int | None, month_number: int) -> int | None:
    """Whole persons behind the pro-rata line (negative: ahead): the persons the line asks for by
    the month, target × month ÷ 12 rounded half up, minus those done. None without a target.

    The reports show this for each row of an area × programme (county, township or city), worked
    out from that row's own target and done, and add the rows up for every total, so that a
    total is the sum of the rows it stands for. The marts' ``gap`` (2 decimals) is the exact
    value; a total differs from it by up to half a person for each row added."""
    if target is None:
        return None
    return (2 * target * month_number + 12) // 24 - (done or 0)


def _with_gap_persons(rows: list[dict]) -> list[dict]:
    for r in rows:
        r["gap_persons"] = gap_persons(r["annual_target"], r["enrolled_ytd"], r["month"].month)
    return rows


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def data_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every month that has a target or a finding, as 'YYYY-MM', in order."""
    rows = con.execute(
        "select distinct strftime(month, '%Y-%m') from marts.mart_target_attainment_monthly "
        "union select distinct strftime(as_of_month, '%Y-%m') from dq.findings where as_of_month is not null "
        "order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def _about_a_person(row: dict) -> bool:
    return CHECK_BY_NAME[row["check_name"]].about_a_row and row["row_number"] is not None


def people_at(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> dict[RowKey, tuple[str, str]]:
    """(source_file, sheet, row_number) → (name, masked ID) for the findings about a person's row.

    Reads the materialised staging tables (names, ID numbers) for exactly these rows, in one
    query, and masks the ID here. The staging *views* would re-run their parsing over every raw
    row; int_household_members_resolved and int_training_enrolments_checked hold the same rows
    and columns (a select * of them, joined to keys), already computed by dbt.
    """
    wanted = sorted(
        {(r["source_file"], r["sheet"], r["row_number"]) for r in rows if _about_a_person(r)}, key=repr
    )
    if not wanted:
        return {}
    files, sheets, numbers = (list(column) for column in zip(*wanted, strict=True))
    found = con.execute(
        """
        with wanted as (
            select
                unnest($files) as source_file,
                unnest($sheets) as sheet,
                unnest($numbers)::integer as row_number
        ),

        people as (
            select source_file, sheet, row_number, member_name as person_name, id_number
            from staging.int_household_members_resolved
            union all
            select source_file, sheet, row_number, trainee_name as person_name, id_number
            from staging.int_training_enrolments_checked
        )

        select people.source_file, people.sheet, people.row_number, people.person_name, people.id_number
        from people
        inner join wanted using (source_file, sheet, row_number)
        """,
        {"files": files, "sheets": sheets, "numbers": numbers},
    ).fetchall()
    return {
        (f, s, n): (name or "", str(mask_id(number)) if number else "") for f, s, n, name, number in found
    }


# A work list row as the reports show it: the mart's row with the person's and the nearest
# member's name and ID from the latest registration of each person key (the same rows the mart
# was built from). read_work_list adds the city and the order; work_list_digests hashes it.
# {list_filter}: the lists to read (every city's, or a condition on year and city_code)
_WORK_LIST_ROWS = """
    -- read from the mart at each use, not materialised: holding every city's list (916 k rows)
    -- raised the digests' peak from 1,142 to 1,754 MiB, and took longer (1.6 s against 2.1 s)
    with list as not materialized (
        select * from marts.mart_village_work_list {list_filter}
    ),

    -- only the people the lists name: a hash table of all 4.17 million cost 0.4–0.6 s a city
    people as (
        select trainee_key, member_name as person_name, id_number
        from staging.int_household_members_resolved
        where
            is_latest_registration
            and trainee_key in (
                select trainee_key from list
                union all
                select nearest_to_certificate_key from list
            )
    )

    select
        list.year,
        list.as_of_date,
        list.city_code,
        list.county_code,
        coalesce(list.county_name, list.county_code) as county_name,
        list.township_name,
        list.village_name,
        list.household_key,
        list.trainee_key,
        person.person_name,
        person.id_number,
        list.sex,
        list.age_years,
        list.labour_category,
        list.programme_code,
        coalesce(list.programme_name_zh, '需求未能归类') as programme_name_zh,
        list.desired_trade,
        list.is_old_revolutionary_area,
        list.is_ethnic_minority_village,
        list.is_young_prime_age,
        list.household_without_certificate,
        nearest.person_name as nearest_name,
        nearest.id_number as nearest_id_number,
        list.nearest_to_certificate_course_ended_on,
        list.approved_institutions
    from list
    left join people as person on list.trainee_key = person.trainee_key
    left join people as nearest on list.nearest_to_certificate_key = nearest.trainee_key
"""


def work_list_digests(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str], str]:
    """(year, city_code) → a digest of the city's work list of the year: its row count and the sum
    of its rows' hashes (a person key is on one row, so no two rows are the same and the sum
    changes with any value shown). One query for every city: 1.6 s at province scale."""
    found = con.execute(
        f"""
        select year, city_code, count(*) as rows, sum(hash(work_list)::hugeint) as digest
        from ({_WORK_LIST_ROWS.format(list_filter="")}) as work_list
        group by year, city_code
        """
    ).fetchall()
    return {(year, city): f"{rows}:{digest}" for year, city, rows, digest in found}


def read_work_list(con: duckdb.DuckDBPyConnection, year: int, city_code: str) -> list[dict]:
    """A city's work list of a year with the person's and the nearest member's name and masked ID.

    One query per city report that carries the list: with every city's list held at once the
    province's reports peaked at 4.9 GiB, 2.3 GiB read city by city."""
    cursor = con.execute(
        f"""
        {_WORK_LIST_ROWS.format(list_filter="where year = ? and city_code = ?")}
        order by
            list.county_code, list.township_name nulls last, list.village_name nulls last,
            list.household_key, person.person_name, list.trainee_key
        """,
        [year, city_code],
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        # IDs leave this function masked, like the people of the finding sheets
        row["id_number"] = mask_id(row["id_number"]) or ""
        row["nearest_id_number"] = mask_id(row["nearest_id_number"]) or ""
        rows.append(row)
    return rows


def _with_work_list_rows(con: duckdb.DuckDBPyConnection, inputs: CityInputs) -> CityInputs:
    work_list = inputs.work_list
    if work_list is None or work_list.rows is not None:
        return inputs
    rows = read_work_list(con, work_list.year, work_list.city_code)
    return replace(inputs, work_list=replace(work_list, rows=rows))


@dataclass(frozen=True)
class WorkListReader:
    """Reads a city's work list rows into its inputs in the process that writes the report, over
    a read-only connection of its own to the warehouse file (opened in 0.05 s, and closed after,
    so that a worker does not keep DuckDB's cache of the staging tables; one thread: the workers
    share two cores with the process handing reports over).

    Handed to a worker instead of the rows: the largest city's 110 k rows pickled to 71 MB, 1.4 s
    to pickle and more to unpickle."""

    database: str

    def __call__(self, inputs: CityInputs) -> CityInputs:
        if inputs.work_list is None or inputs.work_list.rows is not None:
            return inputs
        with duckdb.connect(self.database, read_only=True, config={"threads": 1}) as con:
            return _with_work_list_rows(con, inputs)


def read_match_candidates(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """dq.person_match_candidates with the ledger row's and the candidate's name and masked ID,
    one query for all cities (an empty list before the table was first built)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'dq' and table_name = 'person_match_candidates'"
    ).fetchone()[0]
    if not exists:
        return []
    cursor = con.execute(
        """
        with ledger as (
            select source_file, sheet, row_number, trainee_name, id_number, start_date
            from staging.int_training_enrolments_checked
        ),

        people as (
            select trainee_key, member_name, id_number, township_name, village_name
            from staging.int_household_members_resolved
            where is_latest_registration
        )

        select
            candidates.city_code,
            candidates.county_code,
            candidates.source_file,
            candidates.sheet,
            candidates.row_number,
            candidates.township_name,
            candidates.id_problem,
            ledger.trainee_name,
            ledger.id_number as ledger_id_number,
            ledger.start_date,
            candidates.candidate_rank,
            person.member_name as candidate_name,
            person.id_number as candidate_id_number,
            person.township_name as candidate_township,
            person.village_name as candidate_village,
            candidates.match_probability,
            candidates.agreed_fields,
            candidates.is_proposed
        from dq.person_match_candidates as candidates
        inner join ledger
            on candidates.source_file = ledger.source_file
            and candidates.sheet = ledger.sheet
            and candidates.row_number = ledger.row_number
        left join people as person on candidates.trainee_key = person.trainee_key
        order by
            candidates.county_code, candidates.source_file, candidates.sheet, candidates.row_number,
            candidates.candidate_rank
        """
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        # IDs leave this function masked, like the people of the finding sheets
        row["ledger_id_number"] = mask_id(row["ledger_id_number"]) or ""
        row["candidate_id_number"] = mask_id(row["candidate_id_number"]) or ""
        rows.append(row)
    return rows


def read_work_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """County rows of the work-list summary (every programme and ALL), counts only."""
    return _dicts(
        con.execute(
            """
            select year, city_code, county_code, programme_code, persons_waiting, households_waiting,
                   households_waiting_without_certificate, priority_persons_waiting,
                   young_prime_age_persons_waiting, persons_without_approved_institution
            from marts.mart_village_work_summary
            where summary_level = 'county'
            order by year, county_code, programme_code
            """
        )
    )


class ReportData:
    """The report data of one run: each table read once, then sliced per month and city.

    Rows keep the order the per-city queries gave them (findings by check, county, file, sheet,
    row; ties broken by finding_key so that a fingerprint of them is stable).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    @cached_property
    def _findings(self) -> list[dict]:
        return _dicts(
            self._con.execute(
                """
                select
                    findings.*,
                    counties.name_zh as county_name
                from dq.findings as findings
                left join reference.regions as counties on findings.county_code = counties.region_code
                order by
                    findings.check_order,
                    findings.county_code,
                    findings.source_file,
                    findings.sheet,
                    findings.row_number,
                    findings.entity_key,
                    findings.finding_key
                """
            )
        )

    @cached_property
    def _attainment(self) -> list[dict]:
        rows = _dicts(
            self._con.execute(
                """
                select
                    attainment.month,
                    attainment.city_code,
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
                order by attainment.county_code, programmes.sort_order, attainment.programme_code
                """
            )
        )
        return _with_gap_persons(rows)

    @cached_property
    def _township_attainment(self) -> list[dict]:
        """Townships × programmes against their war-map plans (marts.mart_township_attainment_monthly)."""
        rows = _dicts(
            self._con.execute(
                """
                select
                    townships.month,
                    townships.city_code,
                    townships.county_code,
                    coalesce(counties.name_zh, townships.county_code) as county_name,
                    coalesce(townships.township, '（未填乡镇）') as township,
                    townships.programme_code,
                    programmes.programme_name_zh,
                    townships.annual_target,
                    townships.enrolled_ytd,
                    townships.attainment_rate,
                    townships.expected_rate,
                    townships.gap
                from marts.mart_township_attainment_monthly as townships
                left join reference.regions as counties on townships.county_code = counties.region_code
                left join marts.dim_programme as programmes
                    on townships.programme_code = programmes.programme_code
                where townships.region_level = 'township'
                order by townships.county_code, townships.township, programmes.sort_order
                """
            )
        )
        return _with_gap_persons(rows)

    @cached_property
    def _city_attainment(self) -> list[dict]:
        rows = _dicts(
            self._con.execute(
                """
                select
                    attainment.month,
                    attainment.city_code,
                    coalesce(attainment.city_name, attainment.city_code) as city_name,
                    attainment.programme_code,
                    programmes.programme_name_zh,
                    attainment.annual_target,
                    attainment.enrolled_in_month,
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
                order by attainment.city_code, programmes.sort_order, attainment.programme_code
                """
            )
        )
        return _with_gap_persons(rows)

    @cached_property
    def _forecast(self) -> list[dict]:
        """The year-end forecast of the counties, cities and province (marts.mart_attainment_forecast)."""
        return _dicts(
            self._con.execute(
                """
                select
                    forecast.month,
                    forecast.region_level,
                    forecast.region_code,
                    forecast.city_code,
                    coalesce(regions.name_zh, forecast.region_code) as area_name,
                    forecast.programme_code,
                    programmes.programme_name_zh,
                    forecast.annual_target,
                    forecast.enrolled_ytd,
                    forecast.projected_year_end,
                    forecast.needed_per_month,
                    forecast.will_miss,
                    forecast.method
                from marts.mart_attainment_forecast as forecast
                left join reference.regions as regions on forecast.region_code = regions.region_code
                left join marts.dim_programme as programmes
                    on forecast.programme_code = programmes.programme_code
                order by forecast.region_level, forecast.region_code, forecast.month, programmes.sort_order
                """
            )
        )

    def _forecast_rows(self, month: str, level: str, city_code: str | None, *, trend: bool) -> list[dict]:
        """Forecast rows of a level (of one city, or all): at the month, or January to the month."""
        start = month_start(month)
        return [
            r
            for r in self._forecast
            if r["region_level"] == level
            and (city_code is None or r["city_code"] == city_code)
            and (r["month"].year == start.year and r["month"] <= start if trend else r["month"] == start)
        ]

    @cached_property
    def _reporting(self) -> list[dict]:
        """Expected and received progress reports (marts.mart_reporting_completeness)."""
        return _dicts(
            self._con.execute(
                """
                select
                    month,
                    city_code,
                    county_code,
                    is_expected,
                    is_received,
                    timeliness
                from marts.mart_reporting_completeness
                order by city_code, county_code, month
                """
            )
        )

    @cached_property
    def _regions(self) -> list[tuple[str, str, str, str | None]]:
        """(region_code, name_zh, level, city_code) of every region, by code."""
        return self._con.execute(
            "select region_code, name_zh, level, city_code from reference.regions order by region_code"
        ).fetchall()

    @cached_property
    def _people(self) -> dict[RowKey, tuple[str, str]]:
        """The people of every finding about a row, all cities: one staging lookup per run."""
        return people_at(self._con, self._findings)

    @cached_property
    def _work_list_month(self) -> dict[int, str]:
        """Year → the month whose city reports carry the year's work list: its latest month with
        data. The list names every person still waiting (tens of thousands a city at province
        scale); in all twelve monthly reports it made each workbook megabytes and the reports of a
        province take hours to write. Older reports point to the latest one."""
        latest: dict[int, str] = {}
        for month in data_months(self._con):
            latest[int(month[:4])] = month
        return latest

    @cached_property
    def _work_list_digests(self) -> dict[tuple[int, str], str]:
        return work_list_digests(self._con)

    def _work_list(self, year: int, city_code: str) -> WorkList | None:
        digest = self._work_list_digests.get((year, city_code))
        return WorkList(year, city_code, digest) if digest else None

    def with_work_list_rows(self, inputs: CityInputs) -> CityInputs:
        """The inputs with their work list's rows read: only for a report about to be written."""
        return _with_work_list_rows(self._con, inputs)

    def work_list_reader(self) -> WorkListReader | None:
        """What reads the work lists in another process: None for a database not in a file."""
        (path,) = self._con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()
        return WorkListReader(path) if path else None

    @cached_property
    def _match_candidates(self) -> list[dict]:
        return read_match_candidates(self._con)

    @cached_property
    def _work_summary(self) -> list[dict]:
        return read_work_summary(self._con)

    def findings(self, month: str, city_code: str | None = None) -> list[dict]:
        """Findings as of the end of the month (of one city, or all), with ``is_new`` (of the month)."""
        end = month_start(month)
        return [
            {**r, "is_new": r["as_of_month"] == end}
            for r in self._findings
            if (city_code is None or r["city_code"] == city_code)
            and (r["as_of_month"] is None or r["as_of_month"] <= end)
        ]

    def has_month(self, month: str) -> bool:
        """Whether the warehouse has anything to report for the month (a target or a finding of it)."""
        start = month_start(month)
        return any(r["month"] == start for r in self._attainment) or any(
            r["as_of_month"] == start for r in self._findings
        )

    def cities(self, month: str) -> list[City]:
        """Cities with a target or a finding as of the month, by code."""
        start = month_start(month)
        codes = {r["city_code"] for r in self._attainment if r["month"] == start} | {
            r["city_code"]
            for r in self._findings
            if r["city_code"] is not None and (r["as_of_month"] is None or r["as_of_month"] <= start)
        }
        return [City(code, name) for code, name, _, _ in self._regions if code in codes]

    def counties(self, city_code: str) -> list[tuple[str, str]]:
        return [
            (code, name)
            for code, name, level, city in self._regions
            if level == "county" and city == city_code
        ]

    def city_inputs(self, month: str, city: City, corrections: Corrections | None = None) -> CityInputs:
        start = month_start(month)
        end = month_start(next_month(month))
        now = self.findings(month, city.code)
        wanted = sorted(
            {(r["source_file"], r["sheet"], r["row_number"]) for r in now if _about_a_person(r)}, key=repr
        )
        return CityInputs(
            month=month,
            city=city,
            counties=self.counties(city.code),
            now=now,
            before=self.findings(previous_month(month), city.code),
            attainment=[
                _without(r, "month", "city_code")
                for r in self._attainment
                if r["month"] == start and r["city_code"] == city.code
            ],
            # only the people of this city's own findings
            people={key: self._people[key] for key in wanted if key in self._people},
            townships=[
                _without(r, "month", "city_code")
                for r in self._township_attainment
                if r["month"] == start and r["city_code"] == city.code
            ],
            forecast=self._forecast_rows(month, "county", city.code, trend=False),
            forecast_trend=self._forecast_rows(month, "city", city.code, trend=True),
            work_list=self._work_list(start.year, city.code)
            if month == self._work_list_month.get(start.year)
            else None,
            work_list_month=self._work_list_month.get(start.year),
            # the city's ledger rows of the year up to the month (an undated row: every month)
            match_candidates=[
                r
                for r in self._match_candidates
                if r["city_code"] == city.code
                and (
                    r["start_date"] is None or (r["start_date"].year == start.year and r["start_date"] < end)
                )
            ],
            corrections=corrections or Corrections(),
        )

    def province_inputs(self, month: str) -> ProvinceInputs:
        start = month_start(month)
        return ProvinceInputs(
            month=month,
            cities=self.cities(month),
            now=[_counted(r) for r in self.findings(month)],
            before=[_counted(r) for r in self.findings(previous_month(month))],
            attainment=[_without(r, "month") for r in self._city_attainment if r["month"] == start],
            reporting=[r for r in self._reporting if r["month"].year == start.year and r["month"] <= start],
            forecast=self._forecast_rows(month, "city", None, trend=False),
            forecast_trend=self._forecast_rows(month, "province", None, trend=True),
            work_summary=[r for r in self._work_summary if r["year"] == start.year],
        )


def _without(row: dict, *names: str) -> dict:
    return {k: v for k, v in row.items() if k not in names}


# what the province summary counts findings by: no row, no detail, so that a changed detail
# (or a person) in one city's rows does not rewrite the summary
_COUNTED = ("check_name", "severity", "city_code", "is_new")


def _counted(row: dict) -> dict:
    return {k: row[k] for k in _COUNTED}
