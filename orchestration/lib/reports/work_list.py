"""The village work list laid out for the reports (issue 14): who still waits for training, for what.

A city's report gets one sheet per county (marts.mart_village_work_list of the report month's
year, sorted by township and village, names and masked IDs read by data.read_work_list exactly
as the finding sheets show people); the province summary gets counts only
(marts.mart_village_work_summary). Kept apart from content.py so the finding sheets stay as
they were.
"""

from __future__ import annotations

from orchestration.lib.reports.content import COUNT, Column, Sheet, Table, sheet_name
from orchestration.sources import PROGRAMME_CODES, PROGRAMME_NAMES

# the programmes a need maps to, in docs/domain.md's order, and the needs no rule places
PROGRAMMES = [*((code, PROGRAMME_NAMES[code]) for code in PROGRAMME_CODES), ("UNKNOWN", "需求未能归类")]

SHEET_PREFIX = "待培训名单"

# rows of a county's list on the web page; the workbook holds the whole list
HTML_ROWS = 200


def _priorities(row: dict) -> str:
    flags = [
        ("革命老区", row["is_old_revolutionary_area"]),
        ("少数民族村", row["is_ethnic_minority_village"]),
        ("青壮年", row["is_young_prime_age"]),
    ]
    return "、".join(label for label, on in flags if on)


COLUMNS = [
    Column("序号", COUNT, 6),
    Column("乡镇"),
    Column("行政村"),
    Column("姓名", width=8),
    Column("身份证号码（部分隐藏）", width=22),
    Column("性别", width=5),
    Column("年龄", COUNT, 6),
    Column("劳动力类别", width=16),
    Column("需求对应培训项目", width=20),
    Column("意向工种", width=14),
    Column("优先对象", width=20),
    Column("本户尚无职业资格证书", width=12),
    Column("本户最接近取证的成员", width=12),
    Column("其身份证号码（部分隐藏）", width=22),
    Column("其课程结业日期", width=12),
    Column("县内可承训的备案机构", width=48),
]


def county_sheet(county_name: str, rows: list[dict]) -> Sheet:
    """The work list of one county: one row per person waiting, by township and village."""
    table_rows = [
        [
            i,
            r["township_name"] or "",
            r["village_name"] or "",
            r["person_name"] or "",
            r["id_number"],
            r["sex"] or "",
            r["age_years"],
            r["labour_category"] or "",
            r["programme_name_zh"],
            r["desired_trade"] or "",
            _priorities(r),
            "是" if r["household_without_certificate"] else "",
            r["nearest_name"] or "",
            r["nearest_id_number"],
            r["nearest_to_certificate_course_ended_on"].isoformat()
            if r["nearest_to_certificate_course_ended_on"]
            else "",
            "、".join(r["approved_institutions"]) or "（县内暂无备案机构开设）",
        ]
        for i, r in enumerate(rows, start=1)
    ]
    households = len({r["household_key"] for r in rows})
    without = len({r["household_key"] for r in rows if r["household_without_certificate"]})
    as_of = rows[0]["as_of_date"].isoformat() if rows else ""
    return Sheet(
        sheet_name(f"{SHEET_PREFIX}-{county_name}"),
        f"{county_name}待培训人员名单：{len(rows)} 人，{households} 户（其中 {without} 户尚无职业资格证书）",
        [Table("有培训需求、本年度尚未参加培训的建档立卡贫困人口", COLUMNS, table_rows, html_rows=HTML_ROWS)],
        notes=[
            f"依据户级采集表（是否有培训需求 = 是）和截至 {as_of} 的实名制培训台账："
            "本年度台账中没有其培训记录的人。",
            "优先对象：革命老区、少数民族村（村级采集表）和 16–45 周岁青壮年（按身份证出生日期）。",
            "本户最接近取证的成员：本户尚无职业资格证书时，已结业但未取得职业资格证书的家庭成员，可优先安排鉴定。",
            "可承训机构：本县培训机构名册中资质有效、核准了意向工种或该培训项目工种的机构，核准意向工种的在前。",
        ],
    )


def city_sheets(rows: list[dict], counties: list[tuple[str, str]]) -> list[Sheet]:
    """One sheet per county of the city that has people waiting, in county-code order."""
    by_county: dict[str, list[dict]] = {}
    for r in rows:
        by_county.setdefault(r["county_code"], []).append(r)
    return [county_sheet(name, by_county[code]) for code, name in counties if code in by_county]


SUMMARY_COLUMNS = [
    Column("市州"),
    Column("待培训人数", COUNT),
    Column("待培训户数", COUNT),
    Column("其中尚无职业资格证书的户数", COUNT),
    Column("优先对象人数", COUNT),
    Column("青壮年人数", COUNT),
    Column("县内无可承训机构的人数", COUNT),
]


def province_sheet(rows: list[dict], cities: list[tuple[str, str]]) -> Sheet:
    """Counts only: per city, and per city × programme (county rows of mart_village_work_summary)."""
    totals: dict[str, list[int]] = {}
    by_programme: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["programme_code"] == "ALL":
            counts = totals.setdefault(r["city_code"], [0] * 6)
            for i, name in enumerate(
                (
                    "persons_waiting",
                    "households_waiting",
                    "households_waiting_without_certificate",
                    "priority_persons_waiting",
                    "young_prime_age_persons_waiting",
                    "persons_without_approved_institution",
                )
            ):
                counts[i] += r[name]
        else:
            key = (r["city_code"], r["programme_code"])
            by_programme[key] = by_programme.get(key, 0) + r["persons_waiting"]
    shown = [(code, name) for code, name in cities if code in totals]
    city_table = Table(
        "各市州待培训人员",
        SUMMARY_COLUMNS,
        [[name, *totals[code]] for code, name in shown],
        total_row=["合计", *(sum(totals[code][i] for code, _ in shown) for i in range(6))],
    )
    programme_table = Table(
        "各市州待培训人员（按需求对应培训项目）",
        [Column("市州"), *(Column(title, COUNT) for _, title in PROGRAMMES)],
        [[name, *(by_programme.get((code, p), 0) for p, _ in PROGRAMMES)] for code, name in shown],
    )
    return Sheet(
        "待培训名单汇总",
        "有培训需求、本年度尚未参加培训的建档立卡贫困人口",
        [city_table, programme_table],
        notes=["名单见各市州报告中按县区分列的“待培训名单”工作表；本汇总只有人数和户数。"],
    )
