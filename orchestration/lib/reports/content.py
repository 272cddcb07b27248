"""The content of a report as tables, the same for the workbook and its HTML twin.

A ``Report`` is a title, a few notes and a list of ``Table``s; a table may carry a ``Chart``
(target attainment against the pro-rata line). The writers (workbook.py, html.py) only lay
them out.
"""

from __future__ import annotations

import calendar
import functools
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from orchestration.lib.quality.catalog import CHECK_BY_NAME, CHECKS, SEVERITY_ZH
from orchestration.lib.reports import data

RATE = "rate"  # a column shown as a percentage
COUNT = "count"
TEXT = "text"
CHANGE = "change"  # a signed count: +3 / −2


def display_width(value: object) -> float:
    """Width of a value's text in column-width units: a Chinese character takes 2, others 1.1."""
    return _text_width("" if value is None else str(value))


@functools.lru_cache(maxsize=2**16)
def _text_width(text: str) -> float:
    # cached: the same names, files and details recur in every month's reports of a city
    return sum(2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.1 for ch in text)


# a text column declared at least this wide (in width units, a Chinese character is 2) holds
# sentences (问题说明, 来源文件, 原因, …) that wrap; narrower text (names, places, periods) does not
WRAP_WIDTH = 24


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT
    width: float | None = None  # characters; None: fit the content

    @property
    def wraps(self) -> bool:
        """Long text, wrapped within the column; other text stays on one line."""
        return self.kind == TEXT and self.width is not None and self.width >= WRAP_WIDTH


@dataclass(frozen=True)
class Chart:
    title: str
    categories_column: int  # index of the column holding the category labels
    bar_columns: tuple[int, ...]  # columns drawn as bars (rates)
    line_column: int  # the pro-rata line
    rows: int  # the chart uses the first `rows` rows of the table (not the totals row)


@dataclass(frozen=True)
class TrendLine:
    column: int  # the table column the line reads (a blank cell is a gap)
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class TrendChart:
    """Lines over the table's rows (months): counts, not rates."""

    title: str
    categories_column: int
    lines: tuple[TrendLine, ...]


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[object]]
    note: str = ""
    chart: Chart | None = None
    total_row: list[object] | None = None
    trend: TrendChart | None = None
    # The web page shows at most this many rows and says where the rest are; the workbook holds
    # all (a county's work list runs to tens of thousands of people: megabytes of HTML no
    # browser pages through, while a workbook is filtered and printed by village).
    html_rows: int | None = None


@dataclass
class Sheet:
    name: str  # ≤ 31 characters, no []:*?/\
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    file_stem: str  # <code>_<name>
    title: str
    subtitle: str
    sheets: list[Sheet]
    notice: str = ""  # who takes corrections and by when: under the title, on top of the first sheet


def axis_scale(largest: float, steps: int = 5, whole: bool = False) -> tuple[float, float]:
    """(top, step) of a value axis from 0 that reaches ``largest`` in at most ``steps`` round
    steps: 1, 2, 2.5 or 5 × a power of ten (``whole``: counts, no step of 2.5 persons or less
    than 1), the top a multiple of the step. 1.0 → (1.0, 0.2): 0/20/…/100 %."""
    largest = max(float(largest), 1e-9)
    magnitude = 10 ** math.floor(math.log10(largest / steps))
    step = 10 * magnitude
    for factor in (1, 2, 2.5, 5, 10):
        if whole and (factor == 2.5 and magnitude < 10 or factor * magnitude < 1):
            continue
        if factor * magnitude * steps >= largest * (1 - 1e-9):
            step = factor * magnitude
            break
    top = math.ceil(largest / step - 1e-9) * step
    return round(top, 10), round(step, 10)


def corrections_notice(corrections: data.Corrections, month: str) -> str:
    """The line at the top of a city report: corrections due by the day of the month after the
    report's (the month's last day when it is shorter), and to whom; "" when neither is set."""
    due = ""
    if corrections.deadline_day:
        following = data.month_start(data.next_month(month))
        day = min(corrections.deadline_day, calendar.monthrange(following.year, following.month)[1])
        due = f"{following.year}年{following.month}月{day}日"
    if due and corrections.contact:
        return f"请于{due}前核实更正本报告所列问题并重新报送；联系人：{corrections.contact}"
    if due:
        return f"请于{due}前核实更正本报告所列问题并重新报送。"
    if corrections.contact:
        return f"核实更正本报告所列问题，请联系：{corrections.contact}"
    return ""


def _change(now: int, before: int) -> int:
    return now - before


def _rate(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 4) if numerator is not None and denominator else None


# ---------------------------------------------------------------------------------------------
# summary of findings


def _counts(rows: list[dict], key) -> dict:
    counts: dict = {}
    for r in rows:
        k = key(r)
        counts[k] = counts.get(k, 0) + 1
    return counts


def findings_by_check_table(
    now: list[dict], before: list[dict], areas: list[tuple[str, str]], area_key: str, area_label: str
) -> Table:
    """Checks × areas (counties of a city, or cities of the province), with last month and change."""
    now_counts = _counts(now, lambda r: (r["check_name"], r[area_key]))
    before_counts = _counts(before, lambda r: r["check_name"])
    new_counts = _counts([r for r in now if r["is_new"]], lambda r: r["check_name"])
    columns = [Column("检查项"), Column("严重程度", width=8)]
    columns += [Column(name, COUNT) for _, name in areas]
    columns += [
        Column("合计", COUNT),
        Column("上月", COUNT),
        Column("比上月", CHANGE),
        Column("本月新增", COUNT),
    ]
    rows = []
    for check in CHECKS:
        per_area = [now_counts.get((check.name, code), 0) for code, _ in areas]
        total = sum(v for (name, _), v in now_counts.items() if name == check.name)
        last = before_counts.get(check.name, 0)
        rows.append(
            [check.title_zh, SEVERITY_ZH[check.severity], *per_area, total, last, _change(total, last),
             new_counts.get(check.name, 0)]
        )  # fmt: skip
    sums = [sum(r[i] for r in rows) for i in range(2, 2 + len(areas))]
    total_row = [
        "合计",
        "",
        *sums,
        sum(r[-4] for r in rows),
        sum(r[-3] for r in rows),
        0,
        sum(r[-1] for r in rows),
    ]
    total_row[-2] = _change(total_row[-4], total_row[-3])
    return Table(
        f"数据质量问题：按检查项和{area_label}",
        columns,
        rows,
        note="“上月”为截至上月底的问题数；问题按所涉记录的月份（开班、报表月份、采集或填报日期）计入。",
        total_row=total_row,
    )


def findings_by_area_table(now: list[dict], before: list[dict], areas: list[tuple[str, str]], area_key: str,
                           area_label: str) -> Table:  # fmt: skip
    rows = []
    for code, name in areas:
        mine = [r for r in now if r[area_key] == code]
        last = sum(1 for r in before if r[area_key] == code)
        errors = sum(1 for r in mine if r["severity"] == "error")
        rows.append([name, errors, len(mine) - errors, len(mine), last, _change(len(mine), last),
                     sum(1 for r in mine if r["is_new"])])  # fmt: skip
    unplaced = [r for r in now if r[area_key] is None or r[area_key] not in {code for code, _ in areas}]
    if unplaced:
        last = sum(1 for r in before if r[area_key] is None or r[area_key] not in {code for code, _ in areas})
        errors = sum(1 for r in unplaced if r["severity"] == "error")
        rows.append([f"（未能识别{area_label}）", errors, len(unplaced) - errors, len(unplaced), last,
                     _change(len(unplaced), last), sum(1 for r in unplaced if r["is_new"])])  # fmt: skip
    total = [sum(r[i] for r in rows) for i in range(1, 7)]
    total[4] = _change(total[2], total[3])
    return Table(
        f"数据质量问题：按{area_label}",
        [
            Column(area_label),
            Column("错误", COUNT),
            Column("提示", COUNT),
            Column("合计", COUNT),
            Column("上月", COUNT),
            Column("比上月", CHANGE),
            Column("本月新增", COUNT),
        ],  # fmt: skip
        rows,
        total_row=["合计", *total],
    )


# ---------------------------------------------------------------------------------------------
# attainment


def gap_note(area_label: str) -> str:
    return (
        f"进度差额 = 按时间进度应完成的人次（年度任务 × 月份 ÷ 12，按{area_label}和培训项目四舍五入为整人次）"
        "− 累计完成，正数为落后于时间进度；各合计为所含各项之和。"
    )


def attainment_by_area_table(
    rows: list[dict], area_code: str, area_name: str, area_label: str, month: str
) -> Table:
    """One row per area (all programmes together): target, done so far, rate, pro-rata line, gap."""
    areas: dict[str, dict] = {}
    for r in rows:
        a = areas.setdefault(r[area_code], {"name": r[area_name], "target": 0, "done": 0, "gap": 0,
                                            "reported": None, "expected": r["expected_rate"]})  # fmt: skip
        a["target"] += r["annual_target"] or 0
        a["done"] += r["enrolled_ytd"] or 0
        a["gap"] += r["gap_persons"] or 0  # the rows of 分项目进度 added up
        if r["reported_ytd"] is not None:
            a["reported"] = (a["reported"] or 0) + r["reported_ytd"]
    table_rows = [
        [a["name"], a["target"], a["done"], _rate(a["done"], a["target"]), float(a["expected"] or 0),
         a["gap"], a["reported"], None if a["reported"] is None else a["reported"] - a["done"]]
        for a in areas.values()
    ]  # fmt: skip
    target = sum(r[1] for r in table_rows)
    done = sum(r[2] for r in table_rows)
    expected = table_rows[0][4] if table_rows else None
    reported = [r[6] for r in table_rows if r[6] is not None]
    total = ["合计", target, done, _rate(done, target), expected, sum(r[5] for r in table_rows),
             sum(reported) if reported else None, (sum(reported) - done) if reported else None]  # fmt: skip
    return Table(
        f"{data.month_zh(month)}任务完成进度：按{area_label}（全部培训项目）",
        [
            Column(area_label),
            Column("年度任务（人次）", COUNT),
            Column("累计完成（人次，台账）", COUNT),
            Column("完成率", RATE),
            Column("时间进度", RATE),
            Column("进度差额（人次）", COUNT),
            Column("报表累计完成", COUNT),
            Column("报表−台账", CHANGE),
        ],  # fmt: skip
        table_rows,
        note=f"时间进度 = 月份 ÷ 12；{gap_note(area_label)}"
        "累计完成按实名制台账计数（同一人同一项目每年计 1 人次）。",
        chart=Chart(f"{data.month_zh(month)}各{area_label}任务完成率与时间进度", 0, (3,), 4, len(table_rows)),
        total_row=total,
    )


def attainment_detail_table(rows: list[dict], area_name: str, area_label: str) -> Table:
    """One row per area × programme; 本月新增 is the month's new trainee-times (enrolled_in_month)."""
    return Table(
        f"任务完成进度：按{area_label}和培训项目",
        [
            Column(area_label),
            Column("培训项目"),
            Column("年度任务（人次）", COUNT),
            Column("累计完成（人次）", COUNT),
            Column("本月新增（人次）", COUNT),
            Column("完成率", RATE),
            Column("时间进度", RATE),
            Column("进度差额（人次）", COUNT),
            Column("报表累计完成", COUNT),
            Column("报表−台账", CHANGE),
        ],  # fmt: skip
        [
            [
                r[area_name],
                r["programme_name_zh"],
                r["annual_target"],
                r["enrolled_ytd"],
                r.get("enrolled_in_month"),
                float(r["attainment_rate"]) if r["attainment_rate"] is not None else None,
                float(r["expected_rate"] or 0),
                r["gap_persons"],
                r["reported_ytd"],
                r["report_minus_ledger"],
            ]
            for r in rows
        ],  # fmt: skip
        note=gap_note(area_label),
    )


# ---------------------------------------------------------------------------------------------
# townships against their war maps (marts.mart_township_attainment_monthly)

TOWNSHIP_SHEET = "乡镇进度"


def township_sheet(rows: list[dict], city_name: str, month: str) -> Sheet:
    """Which township is behind its war map, and by how much: all programmes together, the
    furthest behind first; then each township's programmes."""
    townships: dict[tuple[str, str], dict] = {}
    for r in rows:
        t = townships.setdefault(
            (r["county_name"], r["township"]),
            {"target": 0, "done": 0, "gap": 0, "expected": r["expected_rate"], "behind": []},
        )
        t["target"] += r["annual_target"] or 0
        t["done"] += r["enrolled_ytd"] or 0
        t["gap"] += r["gap_persons"] or 0  # the township's rows of the detail below added up
        if r["annual_target"] and (r["gap_persons"] or 0) >= 1:
            t["behind"].append(f"{r['programme_name_zh'] or r['programme_code']} {r['gap_persons']}")
    summary_rows = sorted(
        (
            [
                county,
                township,
                t["target"],
                t["done"],
                _rate(t["done"], t["target"]),
                float(t["expected"] or 0),
                t["gap"],
                "、".join(t["behind"]),
            ]
            for (county, township), t in townships.items()
        ),  # fmt: skip
        key=lambda row: (-row[6], row[0], row[1]),
    )
    summary = Table(
        f"{data.month_zh(month)}各乡镇作战图任务完成进度（全部培训项目，落后最多的在前）",
        [
            Column("县区"),
            Column("乡镇"),
            Column("作战图计划（人次）", COUNT),
            Column("累计完成（人次，台账）", COUNT),
            Column("完成率", RATE),
            Column("时间进度", RATE),
            Column("进度差额（人次）", COUNT),
            Column("落后的培训项目（差额人次）", width=40),
        ],  # fmt: skip
        summary_rows,
        note="目标为乡镇作战图各村计划人次之和；累计完成按实名制台账计数，计入学员当年首次开班所在乡镇。"
        "进度差额 = 按时间进度应完成的人次（计划 × 月份 ÷ 12，按乡镇和培训项目四舍五入为整人次）− 累计完成，"
        "正数为落后于时间进度；乡镇的差额为下表该乡镇各培训项目差额之和。",
    )
    detail = Table(
        "各乡镇分项目进度",
        [
            Column("县区"),
            Column("乡镇"),
            Column("培训项目"),
            Column("作战图计划（人次）", COUNT),
            Column("累计完成（人次）", COUNT),
            Column("完成率", RATE),
            Column("进度差额（人次）", COUNT),
        ],  # fmt: skip
        [
            [
                r["county_name"],
                r["township"],
                r["programme_name_zh"] or r["programme_code"],
                r["annual_target"],
                r["enrolled_ytd"],
                float(r["attainment_rate"]) if r["attainment_rate"] is not None else None,
                r["gap_persons"],
            ]
            for r in rows
        ],  # fmt: skip
    )
    return Sheet(
        TOWNSHIP_SHEET,
        f"{city_name}{data.month_zh(month)}各乡镇培训任务完成进度",
        [summary, detail] if rows else [],
        notes=[] if rows else [f"{data.month_zh(month)}本市州没有乡镇作战图计划或台账记录。"],
    )


# ---------------------------------------------------------------------------------------------
# reporting completeness and timeliness (marts.mart_reporting_completeness)

REPORTING_SHEET = "报表报送情况"


def reporting_rate_table(rows: list[dict], cities: list[tuple[str, str]], month: str) -> Table:
    """Per city, the county progress reports expected from January to the month: received, the
    reporting rate, on time, late, without 填报日期, missing."""
    table_rows = []
    for code, name in cities:
        mine = [r for r in rows if r["city_code"] == code and r["is_expected"]]
        if not mine:
            continue
        received = [r for r in mine if r["is_received"]]
        on_time = sum(1 for r in received if r["timeliness"] == "on_time")
        late = sum(1 for r in received if r["timeliness"] == "late")
        unknown = len(received) - on_time - late
        rate = _rate(len(received), len(mine))
        table_rows.append([name, len(mine), len(received), rate, on_time, late, unknown,
                           len(mine) - len(received), _rate(on_time, on_time + late)])  # fmt: skip
    sums = [sum(r[i] for r in table_rows) for i in (1, 2, 4, 5, 6, 7)]
    total = ["合计", sums[0], sums[1], _rate(sums[1], sums[0]), sums[2], sums[3], sums[4], sums[5],
             _rate(sums[2], sums[2] + sums[3])]  # fmt: skip
    return Table(
        f"进度报表报送率：按市州（{month_start_zh(month)}至{data.month_zh(month)}）",
        [
            Column("市州"),
            Column("应报（县区·月）", COUNT),
            Column("已报", COUNT),
            Column("报送率", RATE),
            Column("按时", COUNT),
            Column("逾期", COUNT),
            Column("未注明填报日期", COUNT),
            Column("未报", COUNT),
            Column("及时率", RATE),
        ],  # fmt: skip
        table_rows,
        note="应报：有年度任务的县区每月报送一份任务进度统计汇总表，至全省最近的统计月份；"
        "报送率 = 已报 ÷ 应报。按时：填报日期不晚于次月 5 日；"
        "及时率 = 按时 ÷（按时 + 逾期），未注明填报日期的不计入。"
        "未报的县区和月份见各市州报告“进度报表未报送”。",
        total_row=total,
    )


def month_start_zh(month: str) -> str:
    return f"{data.month_start(month).year}年1月"


# ---------------------------------------------------------------------------------------------
# the year-end forecast (marts.mart_attainment_forecast)

FORECAST_SHEET = "预计完成情况"
METHOD_ZH = {
    "earlier_year_profile": "按上年全省各月进度推算",
    "recent_3_months": "按近三个月平均进度推算",
    "year_to_date_pace": "按今年以来平均进度推算",
    "actual": "全年实际",
}


def forecast_by_area_table(rows: list[dict], area_label: str, month: str) -> Table:
    """Per area (all programmes): target, done, projected year end, what each month still needs."""
    areas: dict[str, dict] = {}
    for r in rows:
        a = areas.setdefault(
            r["area_name"],
            {"target": 0, "done": 0, "projected": 0, "needed": 0, "missing": [], "methods": set()},
        )
        a["target"] += r["annual_target"] or 0
        a["done"] += r["enrolled_ytd"] or 0
        a["projected"] += r["projected_year_end"] or 0
        a["needed"] += r["needed_per_month"] or 0
        a["methods"].add(METHOD_ZH.get(r["method"], r["method"]))
        if r["will_miss"]:
            a["missing"].append(r["programme_name_zh"] or r["programme_code"])
    table_rows = [
        [name, a["target"], a["done"], a["projected"], _rate(a["projected"], a["target"]), a["needed"],
         "预计完不成" if a["target"] and a["projected"] < a["target"] else "预计可完成",
         "、".join(a["missing"]), "；".join(sorted(a["methods"]))]
        for name, a in areas.items()
    ]  # fmt: skip
    return Table(
        f"{data.month_zh(month)}预计全年完成情况：按{area_label}（全部培训项目，预计完成率最低的在前）",
        [
            Column(area_label),
            Column("年度任务（人次）", COUNT),
            Column("累计完成（人次）", COUNT),
            Column("预计全年完成（人次）", COUNT),
            Column("预计完成率", RATE),
            Column("每月还需完成（人次）", COUNT),
            Column("预计", width=12),
            Column("预计完不成的培训项目", width=40),
            Column("推算方法", width=24),
        ],  # fmt: skip
        sorted(table_rows, key=lambda row: (row[4] is None, row[4] or 0)),
        note="按目前进度推算到年底；每月还需完成 = 尚差人次 ÷ 剩余月数（各培训项目之和）。"
        "推算方法及其误差见 docs/forecast.md。",
    )


def forecast_trend_table(trend: list[dict], month: str, area_name: str) -> Table:
    """Month by month for the whole area: done so far, the pro-rata line, the target, and the
    forecast from this month to December (drawn dashed)."""
    by_month: dict[int, dict] = {}
    for r in trend:
        m = by_month.setdefault(r["month"].month, {"target": 0, "done": 0, "projected": 0})
        m["target"] += r["annual_target"] or 0
        m["done"] += r["enrolled_ytd"] or 0
        m["projected"] += r["projected_year_end"] or 0
    now = data.month_start(month).month
    current = by_month.get(now, {"target": 0, "done": 0, "projected": 0})
    rows = []
    for k in range(1, 13):
        done = by_month[k]["done"] if k <= now and k in by_month else None
        forecast = None
        if now < 12 and k >= now:
            forecast = round(
                current["done"] + (current["projected"] - current["done"]) * (k - now) / (12 - now)
            )
        rows.append([f"{k}月", done, round(current["target"] * k / 12), current["target"], forecast])
    return Table(
        f"{area_name}累计完成与时间进度、年度任务（{data.month_zh(month)}起为预计）",
        [
            Column("月份"),
            Column("累计完成（人次）", COUNT),
            Column("时间进度线（人次）", COUNT),
            Column("年度任务（人次）", COUNT),
            Column("预计（人次）", COUNT),
        ],  # fmt: skip
        rows,
        note="时间进度线 = 年度任务 × 月份 ÷ 12；预计线（虚线）从本月累计完成连到预计全年完成。",
        trend=TrendChart(
            f"{area_name}{data.month_zh(month)}累计完成与预计",
            0,
            (
                TrendLine(1, "#4472C4"),
                TrendLine(2, "#A5A5A5"),
                TrendLine(3, "#C00000"),
                TrendLine(4, "#4472C4", dashed=True),
            ),
        ),
    )


def forecast_sheet(rows: list[dict], trend: list[dict], area_label: str, area_name: str, month: str) -> Sheet:
    """预计完成情况: the chart officials read at a glance, then who will miss the year."""
    tables = [forecast_trend_table(trend, month, area_name), forecast_by_area_table(rows, area_label, month)]
    return Sheet(
        FORECAST_SHEET,
        f"{area_name}{data.month_zh(month)}预计完成情况",
        tables if rows else [],
        notes=[] if rows else [f"{data.month_zh(month)}没有可推算的年度任务。"],
    )


# ---------------------------------------------------------------------------------------------
# one sheet per check


def sheet_name(title: str) -> str:
    for bad in "[]:*?/\\":
        title = title.replace(bad, "")
    return title[:31]


def check_sheet(check_name: str, rows: list[dict], people: dict | None) -> Sheet:
    """The rows to fix for one check, with where they are. ``people`` (name, masked ID) only in a
    city's own report."""
    check = CHECK_BY_NAME[check_name]
    show_people = people is not None and check.about_a_row
    columns = [Column("序号", COUNT, 6), Column("县区"), Column("乡镇"), Column("行政村")]
    if show_people:
        columns += [Column("姓名", width=8), Column("身份证号码（部分隐藏）", width=22)]
    columns += [
        Column("问题说明", width=70),
        Column("来源文件", width=48),
        Column("工作表"),
        Column("行号", COUNT, 7),
        Column("期间", width=9),
        Column("本月新增", width=8),
    ]
    table_rows = []
    for i, r in enumerate(rows, start=1):
        row = [
            i,
            r["county_name"] or r["county_code"] or "（未能识别）",
            r["township"] or "",
            r["village"] or "",
        ]
        if show_people:
            name, masked = people.get((r["source_file"], r["sheet"], r["row_number"]), ("", ""))
            row += [name, masked]
        row += [r["detail"], r["source_file"] or "", r["sheet"] or "", r["row_number"], r["period"] or "",
                "是" if r["is_new"] else ""]  # fmt: skip
        table_rows.append(row)
    return Sheet(
        sheet_name(check.title_zh),
        f"{check.title_zh}（{SEVERITY_ZH[check.severity]}）：{len(rows)} 条",
        [Table("需要核实更正的记录", columns, table_rows)],
        notes=["来源文件、工作表、行号即报送原表中的位置（行号与 Excel/WPS 左侧行号一致）。"],
    )


# ---------------------------------------------------------------------------------------------
# what the ingest could not load (checks file_not_loaded, row_not_loaded)

INGEST_CHECKS = ("file_not_loaded", "row_not_loaded")
NOT_LOADED_SHEET = "未能导入的文件和数据"
ACTION_MARK = "。处理办法："  # dq/ingest models write detail as "<problem>。处理办法：<what to do>"


def not_loaded_kind(row: dict) -> str:
    """整个文件 / 工作表 / 数据行: a file-level finding is keyed by the file alone."""
    if row["check_name"] == "row_not_loaded":
        return "数据行"
    return "整个文件" if row["entity_key"] == row["source_file"] else "工作表"


def split_detail(detail: str | None) -> tuple[str, str]:
    """(reason, what to do) of an ingest finding's detail."""
    reason, _, action = (detail or "").partition(ACTION_MARK)
    # "整个文件未能导入：…" / "工作表“X”未能导入：…": the 类型 and 工作表 columns say that already
    return reason.split("未能导入：", 1)[-1], action


def not_loaded_sheet(rows: list[dict]) -> Sheet:
    """A city's failed files, refused or hidden sheets and rows left out: none of it is counted."""
    columns = [
        Column("序号", COUNT, 6),
        Column("县区"),
        Column("类型", width=8),
        Column("来源文件", width=48),
        Column("工作表"),
        Column("行号", COUNT, 7),
        Column("原因", width=60),
        Column("处理办法", width=40),
    ]
    table_rows = []
    for i, r in enumerate(rows, start=1):
        reason, action = split_detail(r["detail"])
        county = r["county_name"] or r["county_code"] or "（未能识别）"
        table_rows.append([i, county, not_loaded_kind(r), r["source_file"] or "", r["sheet"] or "",
                           r["row_number"], reason, action])  # fmt: skip
    files = sum(1 for r in rows if r["check_name"] == "file_not_loaded")
    notes = [
        "这些文件、工作表和数据行没有导入数据库，其中的人次不计入任务完成数：请按“处理办法”修改后重新报送。",
        "来源文件、工作表、行号即报送原表中的位置（行号与 Excel/WPS 左侧行号一致）。",
    ]
    if not rows:
        notes.insert(0, "本市州报送的文件和数据已全部导入。")
    return Sheet(
        NOT_LOADED_SHEET,
        f"{NOT_LOADED_SHEET}：文件或工作表 {files} 个，数据行 {len(rows) - files} 行",
        [Table("未能导入的文件、工作表和数据行", columns, table_rows)],
        notes=notes,
    )


def not_loaded_by_city_table(now: list[dict], areas: list[tuple[str, str]]) -> Table:
    """Province: per city, files or sheets and rows not loaded; those no city can be found for last."""
    mine = [r for r in now if r["check_name"] in INGEST_CHECKS]
    known = {code for code, _ in areas}
    places = [*areas, (None, "（未能归属市州，由省级处理）")]
    rows = []
    for code, name in places:
        here = [r for r in mine if (r["city_code"] == code if code else r["city_code"] not in known)]
        files = sum(1 for r in here if r["check_name"] == "file_not_loaded")
        if code or here:
            rows.append([name, files, len(here) - files, len(here)])
    return Table(
        f"{NOT_LOADED_SHEET}：按市州",
        [Column("市州"), Column("文件或工作表", COUNT), Column("数据行", COUNT), Column("合计", COUNT)],
        rows,
        note="未能导入的文件、工作表和数据行不计入任务完成数；明细见各市州报告的“未能导入的文件和数据”工作表。",
        total_row=["合计", *(sum(r[i] for r in rows) for i in (1, 2, 3))],
    )


# ---------------------------------------------------------------------------------------------
# whole reports


def city_report(inputs: data.CityInputs, generated_on: date) -> Report:
    month, city = inputs.month, inputs.city
    now, before, attainment = inputs.now, inputs.before, inputs.attainment
    # counties shown: those with a target or a finding, in code order
    shown = {r["county_code"] for r in attainment} | {r["county_code"] for r in now}
    areas = [(code, name) for code, name in inputs.counties if code in shown]
    summary = Sheet(
        "概况",
        f"{city.name}精准扶贫劳动力培训数据质量与任务进度报告（{data.month_zh(month)}）",
        [
            findings_by_area_table(now, before, areas, "county_code", "县区"),
            findings_by_check_table(now, before, areas, "county_code", "县区"),
        ],
        notes=[
            f"报告范围：{city.name}（{city.code}）各县区报送的户级采集表、村级采集表、培训机构名册、实名制台账、"
            f"乡镇作战图、进度报表和年度任务分解表，截至{data.month_zh(month)}底。",
            "“错误”须更正后重新报送；“提示”请核实，确属正常的可不处理。每类问题的明细见后面各工作表。",
            f"未能导入的文件、工作表和数据行见“{NOT_LOADED_SHEET}”工作表：其中的人次不计入任务完成数。",
            "本报告只含本市州数据；身份证号码只显示前 6 位和后 4 位。",
            *(
                [
                    f"本年待培训名单附在{data.month_zh(inputs.work_list_month)}的报告中（只附在本年最新一期报告）。"
                ]
                if inputs.work_list_month and inputs.work_list_month != month
                else []
            ),
            f"生成日期：{generated_on.isoformat()}",
        ],
    )
    progress = Sheet(
        "任务进度",
        f"{city.name}{data.month_zh(month)}培训任务完成进度",
        [attainment_by_area_table(attainment, "county_code", "county_name", "县区", month)]
        if attainment
        else [],
        notes=[] if attainment else [f"{data.month_zh(month)}没有下达给本市州的年度任务。"],
    )
    progress_detail = Sheet(
        "分项目进度",
        f"{city.name}{data.month_zh(month)}各县区分项目培训任务完成进度",
        [attainment_detail_table(attainment, "county_name", "县区")] if attainment else [],
    )
    people = inputs.people
    by_check: dict[str, list[dict]] = {}
    for r in now:
        by_check.setdefault(r["check_name"], []).append(r)
    detail_sheets = [
        check_sheet(check.name, by_check[check.name], people)
        for check in CHECKS
        if check.name in by_check and check.name not in INGEST_CHECKS
    ]
    not_loaded = not_loaded_sheet([r for r in now if r["check_name"] in INGEST_CHECKS])
    from orchestration.lib.quality.person_matching import THRESHOLD
    from orchestration.lib.reports import person_matches, work_list  # lay out with this module's tables

    return Report(
        f"{city.code}_{city.name}",
        summary.title,
        f"截至{data.month_zh(month)}底",
        [
            summary,
            progress,
            progress_detail,
            township_sheet(inputs.townships, city.name, month),
            forecast_sheet(inputs.forecast, inputs.forecast_trend, "县区", city.name, month),
            not_loaded,
            *detail_sheets,
            *work_list.city_sheets(inputs.work_list_rows, inputs.counties),
            *person_matches.city_sheets(inputs.match_candidates, inputs.counties, THRESHOLD),
        ],  # fmt: skip
        notice=corrections_notice(inputs.corrections, month),
    )


def province_report(inputs: data.ProvinceInputs, generated_on: date) -> Report:
    """The province's summary: counts by city and check, attainment by city. No row, no person."""
    month, now, before, attainment = inputs.month, inputs.now, inputs.before, inputs.attainment
    areas = [(c.code, c.name) for c in inputs.cities]
    title = f"{data.PROVINCE_NAME}精准扶贫劳动力培训数据质量与任务进度汇总（{data.month_zh(month)}）"
    summary = Sheet(
        "概况",
        title,
        [
            findings_by_area_table(now, before, areas, "city_code", "市州"),
            findings_by_check_table(now, before, areas, "city_code", "市州"),
            not_loaded_by_city_table(now, areas),
        ],
        notes=[
            "各市州的问题明细（含来源文件、工作表、行号）见同一文件夹中各市州的报告；本汇总不含任何个人信息。",
            f"生成日期：{generated_on.isoformat()}",
        ],
    )
    progress = Sheet(
        "任务进度",
        f"{data.PROVINCE_NAME}{data.month_zh(month)}培训任务完成进度",
        [attainment_by_area_table(attainment, "city_code", "city_name", "市州", month)] if attainment else [],
    )
    progress_detail = Sheet(
        "分项目进度",
        f"{data.PROVINCE_NAME}{data.month_zh(month)}各市州分项目培训任务完成进度",
        [attainment_detail_table(attainment, "city_name", "市州")] if attainment else [],
    )
    reporting = Sheet(
        REPORTING_SHEET,
        f"{data.PROVINCE_NAME}{data.month_zh(month)}进度报表报送情况",
        [reporting_rate_table(inputs.reporting, areas, month)] if inputs.reporting else [],
        notes=[] if inputs.reporting else ["没有应报送的进度报表。"],
    )
    from orchestration.lib.reports import work_list  # lays out with this module's tables

    waiting = [work_list.province_sheet(inputs.work_summary, areas)] if inputs.work_summary else []
    return Report(f"{data.PROVINCE_CODE}_{data.PROVINCE_NAME}", title, f"截至{data.month_zh(month)}底",
                  [summary, progress, progress_detail,
                   forecast_sheet(inputs.forecast, inputs.forecast_trend, "市州", data.PROVINCE_NAME, month),
                   reporting, *waiting])  # fmt: skip
