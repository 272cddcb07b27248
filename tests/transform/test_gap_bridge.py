"""Issue 15, part 1: why the report and the ledger differ (marts.mart_report_gap_bridge) and
where the war map's persons differ (marts.mart_target_persons_bridge).

On the sample build: the parts add up to the difference on every row and the bridge's ledger
side is the reconciliation's. On a copy of the sample raw folder with a known gap planted —
two duplicate ledger records and one record of a later month that had started when the report
was filled in, all three claimed by the county's report — the bridge splits it exactly and
the finding cites the parts.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from orchestration.resources import REPO_ROOT
from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import run_env, run_pipeline

REPORT = "progress_reports/肃南 10月份 精准扶贫培训进度.csv"  # 填报日期 2015年11月4日
COUNTY_CODE = "620721"  # 肃南裕固族自治县
COUNTY_NAME = "肃南裕固族自治县"
MONTH = "2015-10-01"
PLANTED_FILE = "training_ledgers/肃南裕固族自治县2015年台账补录.csv"
LEDGER_HEADER = ["县区", "乡镇", "行政村", "姓名", "身份证号码", "培训项目", "开班日期", "培训天数"]


def _sql(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def test_parts_add_up_to_the_difference_on_every_row(sample_build):
    rows = _sql(
        sample_build.settings.warehouse,
        "select difference, reported_ytd - enrolled_ytd, part_duplicates + part_not_counted"
        " + part_timing + part_unexplained, least(part_duplicates, part_not_counted, part_timing)"
        " from marts.mart_report_gap_bridge",
    )
    assert len(rows) > 100, "the sample has county and township reports for most months"
    assert all(d == r == p and low >= 0 for d, r, p, low in rows)
    assert any(d != 0 for d, *_ in rows), "the sample plants over- and underclaims"


def test_county_rows_match_the_reconciliation(sample_build):
    mismatched = _sql(
        sample_build.settings.warehouse,
        """
        select r.county_code, r.programme_code, r.report_month
        from dq.reconcile_reported_progress as r
        full join (select * from marts.mart_report_gap_bridge where report_level = 'county') as b
            on r.county_code = b.county_code and r.programme_code = b.programme_code
            and r.report_month = b.month
        where r.ledger_done is distinct from b.enrolled_ytd
            or r.reported_done is distinct from b.reported_ytd
        """,
    )
    assert mismatched == []


def test_report_findings_cite_the_parts(sample_build):
    details = _sql(
        sample_build.settings.warehouse,
        "select detail from dq.findings"
        " where check_name in ('report_overclaims_ledger', 'report_underclaims_ledger')",
    )
    assert details and all("差额" in d for (d,) in details)


def test_village_rows_locate_the_township_war_map_difference(sample_build):
    # the villages' war-map persons add up to the township's, as reconcile_target_persons sums them
    mismatched = _sql(
        sample_build.settings.warehouse,
        """
        select r.county_code, r.township_name, r.year
        from dq.reconcile_target_persons as r
        left join (
            select county_code, township, year, sum(coalesce(war_map_persons, 0)) as war_map_persons
            from marts.mart_target_persons_bridge group by all
        ) as b on r.county_code = b.county_code and r.township_name is not distinct from b.township
            and r.year = b.year
        where r.war_map_persons is distinct from coalesce(b.war_map_persons, 0)
        """,
    )
    assert mismatched == []
    located = _sql(
        sample_build.settings.warehouse,
        "select count(*) from marts.mart_target_persons_bridge where war_map_minus_ledger != 0",
    )[0][0]
    assert located > 0, "the sample plants war-map villages that differ from the ledger"


# --- a planted gap ------------------------------------------------------------------------------


def _clean_programme(warehouse: Path) -> tuple[str, str]:
    """A programme of the county whose October report agrees with the ledger and has nothing for
    the parts to draw on, with two counted records of a start before 25 October to repeat."""
    rows = _sql(
        warehouse,
        """
        select b.programme_code, p.name_zh
        from marts.mart_report_gap_bridge as b
        join reference.programmes as p using (programme_code)
        where b.county_code = ? and b.month = ? and b.report_level = 'county'
            and b.difference = 0 and b.duplicate_records = 0 and b.not_counted_records = 0
            and b.later_month_records = 0
            and (select count(*) from staging.int_training_enrolments_deduplicated as e
                 where e.is_counted and e.is_valid_id and e.county_code = b.county_code
                    and e.programme_code = b.programme_code and e.start_date < date '2015-10-25') >= 2
        order by p.sort_order
        limit 1
        """,
        [COUNTY_CODE, MONTH],
    )
    assert rows, "no clean programme in the sample's October report of 肃南"
    return rows[0]


def _ledger_rows(warehouse: Path, programme_code: str, programme_zh: str) -> list[list[str]]:
    """Two repeats of counted courses (a later start, still October) and a new person whose
    course started on 2 November, before the report was filled in on 4 November."""
    originals = _sql(
        warehouse,
        """
        select township_name, village_name, trainee_name, id_number
        from staging.int_training_enrolments_deduplicated
        where is_counted and is_valid_id and county_code = ? and programme_code = ?
            and start_date < date '2015-10-25'
        order by source_file, row_number
        limit 2
        """,
        [COUNTY_CODE, programme_code],
    )
    rows = [
        [COUNTY_NAME, township, village, name, id_no, programme_zh, "2015-10-26", "20"]
        for township, village, name, id_no in originals
    ]
    body = "62072119900101" + "777"
    township, village = originals[0][0], originals[0][1]
    rows.append(
        [
            COUNTY_NAME,
            township,
            village,
            "补录学员",
            body + ric.calc_check_digit(body),
            programme_zh,
            "2015-11-02",
            "20",
        ]
    )
    return rows


def _raise_report(path: Path, programme_code: str, by: int) -> None:
    """Add `by` to 已完成 of the programme on the county's own row of the csv report."""
    variants = dict(
        csv.reader((REPO_ROOT / "dbt_project/seeds/programme_name_variants.csv").open(encoding="utf-8"))
    )
    lines = list(csv.reader(path.open(encoding="utf-8-sig")))
    header = next(i for i, line in enumerate(lines) if "统计月份" in line)
    groups, current = [], ""
    for cell in lines[header]:
        current = cell or current
        groups.append(current)
    column = next(
        i
        for i, (group, sub) in enumerate(zip(groups, lines[header + 1], strict=False))
        if variants.get(group) == programme_code and sub == "已完成"
    )
    township = lines[header].index("乡镇")
    county_rows = [
        line for line in lines[header + 2 :] if line and COUNTY_NAME in line and not line[township]
    ]
    assert len(county_rows) == 1
    county_rows[0][column] = str(int(county_rows[0][column]) + by)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(lines)


@pytest.fixture(scope="module")
def planted(sample_build, tmp_path_factory):
    warehouse = sample_build.settings.warehouse
    programme_code, programme_zh = _clean_programme(warehouse)
    root = tmp_path_factory.mktemp("gap_planted")
    raw = root / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw)
    with (raw / PLANTED_FILE).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([LEDGER_HEADER, *_ledger_rows(warehouse, programme_code, programme_zh)])
    _raise_report(raw / REPORT, programme_code, 3)
    outcome = run_pipeline(run_env(root, raw))
    assert outcome.returncode == 0, outcome.output[-3000:]
    return root / "warehouse" / "training.duckdb", programme_code


def test_planted_gap_is_split_exactly(planted):
    warehouse, programme_code = planted
    row = _sql(
        warehouse,
        "select difference, part_duplicates, part_not_counted, part_timing, part_unexplained"
        " from marts.mart_report_gap_bridge"
        " where county_code = ? and programme_code = ? and month = ? and report_level = 'county'",
        [COUNTY_CODE, programme_code, MONTH],
    )
    assert row == [(3, 2, 0, 1, 0)]


def test_planted_gap_finding_cites_the_largest_part_first(planted):
    warehouse, programme_code = planted
    details = _sql(
        warehouse,
        "select detail from dq.findings where check_name = 'report_overclaims_ledger'"
        " and county_code = ? and programme_code = ? and period = '2015-10'",
        [COUNTY_CODE, programme_code],
    )
    assert len(details) == 1
    assert "差额 3 人次中 2 人次为重复培训记录，1 人次为报表填报时已开班的以后月份记录" in details[0][0]
