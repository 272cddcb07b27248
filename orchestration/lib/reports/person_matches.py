"""The person-matching review list laid out for the city reports (issue 14): for each ledger row
whose ID is rounded, invalid or missing, the registered members who may be that person.

One sheet per county of the city (rows of dq.person_match_candidates, names and masked IDs read
by data.read_match_candidates). The candidates are proposals: nothing is counted from them.
"""

from __future__ import annotations

from orchestration.lib.reports.content import COUNT, RATE, Column, Sheet, Table, sheet_name

SHEET_PREFIX = "疑似本人核对"
NOT_COUNTED = "候选人只是建议，不计入任何统计；县区核实后请在台账中更正身份证号码，更正后的台账才会计入。"

PROBLEM_ZH = {
    "rounded": "被科学计数法截断",
    "missing": "未填写",
    "bad_length": "位数不对",
    "bad_characters": "含非数字字符",
    "bad_birth_date": "出生日期不存在",
    "bad_check_digit": "校验码错误",
}
FIELD_ZH = {
    "name": "姓名",
    "village": "行政村",
    "township": "乡镇",
    "sex": "性别",
    "id_region": "身份证地区码",
    "birth_date": "出生日期",
    "birth_year": "出生年份",
    "id_digits": "身份证号码仅差一位",
}

COLUMNS = [
    # the ledger row, headed as on the finding sheets
    Column("序号", COUNT, 6),
    Column("县区"),
    Column("来源文件", width=36),
    Column("工作表", width=14),
    Column("行号", COUNT, 6),
    Column("乡镇"),
    Column("姓名", width=8),
    Column("身份证号码（部分隐藏）", width=24),
    Column("号码问题", width=18),
    Column("候选排名", COUNT, 6),
    Column("候选人姓名", width=8),
    Column("候选人身份证号码（部分隐藏）", width=22),
    Column("候选人乡镇"),
    Column("候选人行政村"),
    Column("匹配概率", RATE, 9),
    Column("一致的项目", width=30),
    Column("建议", width=14),
]


def _fields(agreed: str | None) -> str:
    return "、".join(FIELD_ZH.get(f, f) for f in (agreed or "").split(",") if f)


def county_sheet(county_name: str, rows: list[dict], threshold: float) -> Sheet:
    """The review list of one county: each broken-ID ledger row with its candidates by rank."""
    table_rows = [
        [
            i,
            county_name,
            r["source_file"],
            r["sheet"],
            r["row_number"],
            r["township_name"] or "",
            r["trainee_name"] or "",
            r["ledger_id_number"],
            PROBLEM_ZH.get(r["id_problem"], r["id_problem"]),
            r["candidate_rank"],
            r["candidate_name"] or "",
            r["candidate_id_number"],
            r["candidate_township"] or "",
            r["candidate_village"] or "",
            r["match_probability"],
            _fields(r["agreed_fields"]),
            "很可能是本人" if r["is_proposed"] else "请核实",
        ]
        for i, r in enumerate(rows, start=1)
    ]
    ledger_rows = len({(r["source_file"], r["sheet"], r["row_number"]) for r in rows})
    proposed = sum(1 for r in rows if r["is_proposed"])
    return Sheet(
        sheet_name(f"{SHEET_PREFIX}-{county_name}"),
        f"{county_name}台账身份证号码有误的记录：{ledger_rows} 行，其中 {proposed} 行找到很可能的本人",
        [Table("身份证号码有误的台账记录及户级采集表中可能的本人", COLUMNS, table_rows)],
        notes=[
            NOT_COUNTED,
            "候选人：同一县区户级采集表中姓名相同（或身份证号码残存的出生日期相同）的登记人员，按姓名、乡镇、"
            "行政村、性别、出生日期和身份证号码残存部分逐项比对后计算匹配概率（Fellegi–Sunter 模型）。",
            f"匹配概率不低于 {threshold:.0%} 的第一候选标为“很可能是本人”，其余请核实；"
            "每行最多列出 3 名候选人。",
        ],
    )


def city_sheets(rows: list[dict], counties: list[tuple[str, str]], threshold: float) -> list[Sheet]:
    """One sheet per county of the city with candidates, in county-code order."""
    by_county: dict[str, list[dict]] = {}
    for r in rows:
        by_county.setdefault(r["county_code"], []).append(r)
    return [county_sheet(name, by_county[code], threshold) for code, name in counties if code in by_county]
