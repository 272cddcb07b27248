"""The rows of each source for one county, placed in files and sheets.

Base sources come straight from the world (household sheets, ledger, roster). The aggregate
sources (village sheets, war maps, progress reports) are computed from the base rows *after*
defects were injected into them, so an injection in a base row never shows up as a mismatch in
an aggregate: only injections made on the aggregates themselves do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from orchestration.generate import vocab
from orchestration.generate.plan import FilePlan, FormatCycle, SheetPlan, Style, make_style
from orchestration.generate.reference import programmes
from orchestration.generate.scales import YEAR
from orchestration.generate.world import CountyWorld, person_name
from orchestration.sources import PROGRAMME_CODES, SOURCES


class NumericId:
    """An ID number typed into a number cell: Excel keeps 15 significant digits.

    `text` is what a reader gets back (f"{value:.15G}" for a workbook cell, Excel's display form
    such as 6.21123E+17 when the sheet was saved as csv); `value` is the number in the cell.
    """

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: float):
        self.text = text
        self.value = value

    def __repr__(self) -> str:
        return f"NumericId({self.text!r})"


def id_text(value) -> str:
    """The ID as a reader sees it after normalising."""
    return value.text if isinstance(value, NumericId) else str(value)


def county_label(world: CountyWorld, style: Style) -> str:
    return world.spec.name if style.county_form == "full" else world.spec.short_name


def city_label(world: CountyWorld, style: Style) -> str:
    return world.spec.city_name if style.city_form == "full" else world.spec.city_short_name


def _unit_text(rng: random.Random, who: str, when: date) -> str:
    gap = rng.choice(("    ", "      ", "  ", "\u3000\u3000"))
    return f"填报单位：{who}{gap}填报日期：{when.year}年{when.month}月{when.day}日"


def _sheet_name(rng: random.Random, preferred: str) -> str:
    return preferred if rng.random() < 0.6 else rng.choice(("Sheet1", preferred))


# ---------------------------------------------------------------------------------------------
# base sources


def plan_households(world: CountyWorld, rng: random.Random, cycle: FormatCycle) -> list[FilePlan]:
    spec = world.spec
    files = []
    for township in world.townships:
        fmt = cycle.next()
        style = make_style(rng, "household_members", fmt, optional=("city", "desired_trade", "collected_on"))
        templates = (
            f"{spec.name}{township.name}户级采集表",
            f"{township.name}精准扶贫劳动力培训户级采集表（{spec.short_name}）",
            f"{spec.name} {township.name} 户级采集表 - 副本",
            f"2015年{spec.short_name}{township.name}劳动力培训户级采集表(最终版)",
            f"户级采集表_{spec.name}_{township.name}",
        )
        path = f"household_sheets/{rng.choice(templates)}"
        file = FilePlan(SOURCES["household_members"], path, style)
        per_village = file.is_workbook and rng.random() < 0.35
        title = f"{spec.name}{township.name}精准扶贫-劳动力培训户级采集表"
        unit = _unit_text(rng, f"{township.name}人民政府", date(YEAR, 8, rng.randint(20, 31)))
        sheet = None
        for village in township.villages:
            if sheet is None or per_village:
                name = village.name if per_village else _sheet_name(rng, "户级采集表")
                sheet = SheetPlan(name, title + (f"（{village.name}）" if per_village else ""), unit)
                file.sheets.append(sheet)
            for household in village.households:
                head = household.head.name
                for p in household.members:
                    sheet.rows.append(
                        {
                            "city": city_label(world, style),
                            "county": county_label(world, style),
                            "township": township.name,
                            "village": village.name,
                            "household_number": household.number,
                            "head_name": head,
                            "member_name": p.name,
                            "relation_to_head": p.relation,
                            "id_number": p.id_number,
                            "sex": p.sex,
                            "ethnicity": p.ethnicity,
                            "education": p.education,
                            "labour_category": p.category,
                            "employment_status": p.employment,
                            "skill_level": p.skill,
                            "has_training_need": p.has_need,
                            "training_need": p.need_text,
                            "desired_trade": p.desired_trade,
                            "has_certificate": p.has_certificate,
                            "collected_on": household.collected_on,
                            "_person": p,
                        }
                    )
        files.append(file)
    return files


def ledger_row(
    world: CountyWorld, style: Style, rng: random.Random, enrolment, programme_names: dict
) -> dict:
    p, course = enrolment.person, enrolment.course
    prog = programmes()[course.programme]
    village = p.household.village
    inst = course.institution
    # mostly the file's own way of writing the programme, sometimes another clerk's
    name = programme_names[course.programme] if rng.random() < 0.85 else rng.choice(prog.variants)
    return {
        "county": county_label(world, style),
        "township": village.township.name,
        "village": village.name,
        "trainee_name": p.name,
        "id_number": p.id_number,
        "programme_name": name,
        "trade": course.trade,
        "institution": inst.code if style.institution_by_code else inst.name,
        "start_date": course.start,
        "end_date": course.end,
        "duration_days": None if prog.measured_in_hours else course.days,
        "duration_hours": course.hours,
        "completed": enrolment.completed,
        "certified": enrolment.certified,
        "certificate_number": enrolment.certificate_number,
        "certificate_level": enrolment.certificate_level,
        "transferred_to_job": enrolment.transferred,
        "employer": enrolment.employer,
        "subsidy_yuan": enrolment.subsidy,
        "fund_source": enrolment.fund_source,
        "trainee_satisfaction": enrolment.satisfaction,
        "employer_satisfaction": enrolment.employer_satisfaction,
        "_programme": course.programme,
        "_person": p,
        "_course": course,
        "_institution": inst,
    }


# Departments that keep their own ledger when a county does not merge them into one (docs/domain.md:
# 教育 runs the 两后生 diplomas, 农牧 the new professional farmers, 人社 the rest).
DEPARTMENTS = (
    ("人力资源和社会保障局", "人社局", ("EMPLOY", "BRAND", "LEADER", "UPSKILL", "STARTUP")),
    ("教育局", "教育局", ("TWO_AFTER",)),
    ("农牧局", "农牧局", ("FARMER",)),
)


def plan_ledger(world: CountyWorld, rng: random.Random, cycle: FormatCycle) -> list[FilePlan]:
    """The county's real-name ledger: one file, or one per department that runs programmes."""
    spec = world.spec
    split = spec.index % 2 == 1  # every other county
    enrolments = sorted(world.enrolments, key=lambda e: (e.course.start, e.course.number))
    files = []
    groups = DEPARTMENTS if split else (("人力资源和社会保障局", "", PROGRAMME_CODES),)
    for department, short_department, codes in groups:
        mine = [e for e in enrolments if e.course.programme in codes]
        if not mine:
            continue
        fmt = cycle.next()
        style = make_style(rng, "training_records", fmt, optional=("duration_days", "employer_satisfaction"))
        templates = (
            f"{spec.name}{short_department}2015年精准扶贫劳动力培训实名制台账",
            f"{spec.short_name}县{short_department}实名制培训台账（2015）",
            f"2015年 {spec.name} {short_department}培训台账 汇总",
            f"{spec.name}精准扶贫培训实名制台账_{short_department or '汇总'}_上报市局",
        )
        file = FilePlan(SOURCES["training_records"], f"training_ledgers/{rng.choice(templates)}", style)
        names = {
            c: p.variants[0] if rng.random() < 0.5 else rng.choice(p.variants)
            for c, p in programmes().items()
        }
        per_programme = file.is_workbook and len(codes) > 1 and rng.random() < 0.35
        title = f"{spec.name}2015年精准扶贫劳动力培训实名制台账"
        unit = _unit_text(rng, f"{spec.name}{department}", date(YEAR + 1, 1, rng.randint(5, 15)))
        sheets: dict[str, SheetPlan] = {}
        for e in mine:
            key = e.course.programme if per_programme else ""
            if key not in sheets:
                sheet_name = names[key][:28] if per_programme else _sheet_name(rng, "培训台账")
                sheets[key] = SheetPlan(
                    sheet_name, title + (f"（{names[key]}）" if per_programme else ""), unit
                )
                file.sheets.append(sheets[key])
            sheets[key].rows.append(ledger_row(world, style, rng, e, names))
        if per_programme:
            file.sheets.sort(key=lambda s: PROGRAMME_CODES.index(s.rows[0]["_programme"]))
        file.meta = {"programme_names": names}
        files.append(file)
    return files


def plan_roster(world: CountyWorld, rng: random.Random, cycle: FormatCycle) -> list[FilePlan]:
    spec = world.spec
    style = make_style(rng, "institutions", cycle.next(), optional=("annual_capacity", "contact_phone"))
    templates = (
        f"{spec.name}培训机构名册",
        f"{spec.short_name} 精准扶贫培训机构名册（2015年）",
        f"培训机构名册-{spec.name}",
    )
    file = FilePlan(SOURCES["institutions"], f"institution_rosters/{rng.choice(templates)}", style)
    unit = _unit_text(
        rng, f"{spec.name}人力资源和社会保障局", date(YEAR, rng.randint(3, 6), rng.randint(1, 28))
    )
    sheet = SheetPlan(_sheet_name(rng, "机构名册"), f"{spec.name}精准扶贫劳动力培训机构名册", unit)
    for inst in world.institutions:
        sheet.rows.append(
            {
                "institution_code": inst.code,
                "institution_name": inst.name,
                "institution_type": inst.kind,
                "county": county_label(world, style),
                "approved_trades": style.trade_separator.join(inst.approved_trades),
                "annual_capacity": inst.capacity,
                "qualification_valid_until": inst.valid_until,
                "contact_person": inst.contact,
                "contact_phone": inst.phone,
                "_institution": inst,
            }
        )
    file.sheets.append(sheet)
    return [file]


# ---------------------------------------------------------------------------------------------
# what the aggregates are computed from


def household_counts(household_rows: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """Per (township, village): the counts a village sheet and a war map report."""
    groups: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"households": set(), "population": 0, "labour": 0, "need": 0, "certificates": 0}
    )
    for r in household_rows:
        g = groups[(r["township"], r["village"])]
        g["households"].add(r["household_number"])
        g["population"] += 1
        g["labour"] += r["labour_category"] not in ("", vocab.NON_LABOUR)
        g["need"] += bool(r["has_training_need"])
        g["certificates"] += bool(r["has_certificate"])
    return {k: {**v, "households": len(v["households"])} for k, v in groups.items()}


def counted_enrolments(ledger_rows: list[dict]) -> dict[tuple[str, str], tuple[str, str, int, dict]]:
    """The counting rule: one trainee-time per (ID, programme, year), in the month of its first start.

    Returns (ID, programme) -> (township, village, month, the first row).
    """
    first: dict[tuple[str, str], dict] = {}
    for r in ledger_rows:
        if r["start_date"].year != YEAR:
            continue
        key = (id_text(r["id_number"]), r["_programme"])
        if key not in first or r["start_date"] < first[key]["start_date"]:
            first[key] = r
    return {k: (r["township"], r["village"], r["start_date"].month, r) for k, r in first.items()}


def distinct_trainees(ledger_rows: list[dict]) -> dict[tuple[str, str], set[str]]:
    """Per (township, village): the distinct IDs the ledger trains this year."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in ledger_rows:
        if r["start_date"].year == YEAR:
            groups[(r["township"], r["village"])].add(id_text(r["id_number"]))
    return groups


# ---------------------------------------------------------------------------------------------
# aggregate sources


def plan_villages(world, rng, cycle, household_rows, ledger_rows) -> list[FilePlan]:
    spec = world.spec
    style = make_style(rng, "village_statistics", cycle.next(), optional=("city", "reported_on"))
    templates = (
        f"{spec.name}村级采集表",
        f"{spec.short_name}县精准扶贫劳动力培训村级采集表（汇总）",
        f"村级采集表 {spec.name}",
    )
    file = FilePlan(SOURCES["village_statistics"], f"village_sheets/{rng.choice(templates)}", style)
    reported = date(YEAR, 12, rng.randint(20, 28))
    unit = _unit_text(rng, f"{spec.name}扶贫开发办公室", reported)
    sheet = SheetPlan(_sheet_name(rng, "村级采集表"), f"{spec.name}精准扶贫-劳动力培训村级采集表", unit)
    counts = household_counts(household_rows)
    trained = distinct_trainees(ledger_rows)
    old_area = (
        spec.city_code in vocab.OLD_REVOLUTIONARY_CITIES or spec.code in vocab.OLD_REVOLUTIONARY_COUNTIES
    )
    for township in world.townships:
        for v in township.villages:
            c = counts.get((township.name, v.name), {})
            sheet.rows.append(
                {
                    "city": city_label(world, style),
                    "county": county_label(world, style),
                    "township": township.name,
                    "village": v.name,
                    "total_households": v.total_households,
                    "total_population": v.total_population,
                    "poor_households": c.get("households", 0),
                    "poor_population": c.get("population", 0),
                    "labour_force": c.get("labour", 0),
                    "persons_with_training_need": c.get("need", 0),
                    "trained_this_year": len(trained.get((township.name, v.name), ())),
                    "certificate_holders": c.get("certificates", 0),
                    "is_old_revolutionary_area": old_area,
                    "is_ethnic_minority_village": v.minority,
                    "reported_on": reported,
                }
            )
    file.sheets.append(sheet)
    return [file]


def plan_war_maps(world, rng, cycle, household_rows, ledger_rows) -> list[FilePlan]:
    spec = world.spec
    counts = household_counts(household_rows)
    trained = distinct_trainees(ledger_rows)
    one_workbook = rng.random() < 0.4
    files: list[FilePlan] = []
    deadline = date(YEAR, 12, 31)
    group_label = rng.choice(("计划培训人次", "分项目计划培训人次（人次）", "培训任务（人次）"))
    for township in world.townships:
        if not files or not one_workbook:
            fmt = cycle.next()
            if one_workbook and fmt.startswith("csv"):
                fmt = "xlsx"
            style = make_style(rng, "war_map_targets", fmt, optional=("poor_households", "deadline"))
            style.two_row_header = rng.random() < 0.5
            style.group_label = group_label
            style.title = True  # the year of a war map is read from its title
            if one_workbook:
                path = f"war_maps/{spec.name}各乡镇精准扶贫培训作战图（2015年）"
            else:
                path = f"war_maps/{rng.choice((f'{spec.name}{township.name}作战图', f'{township.name} 2015年劳动力培训作战图（{spec.short_name}）', f'{spec.short_name}_{township.name}_作战图'))}"  # noqa: E501
            files.append(FilePlan(SOURCES["war_map_targets"], path, style))
        file = files[-1]
        title = f"{spec.name}{township.name}2015年精准扶贫劳动力培训作战图"
        unit = _unit_text(rng, f"{township.name}人民政府", date(YEAR, rng.randint(6, 7), rng.randint(1, 30)))
        sheet = SheetPlan(township.name if one_workbook else _sheet_name(rng, "作战图"), title, unit)
        for v in township.villages:
            c = counts.get((township.name, v.name), {})
            row = {
                "county": county_label(world, file.style),
                "township": township.name,
                "village": v.name,
                "poor_households": c.get("households", 0),
                "poor_population": c.get("population", 0),
                "labour_force": c.get("labour", 0),
                "target_persons": len(trained.get((township.name, v.name), ())),
                "responsible_person": person_name(rng, "男" if rng.random() < 0.7 else "女"),
                "deadline": deadline,
            }
            for code in PROGRAMME_CODES:
                row[f"plan_{code.lower()}"] = world.plan[(township.name, v.name, code)]
            sheet.rows.append(row)
        file.sheets.append(sheet)
    return files


def progress_table(world: CountyWorld, ledger_rows: list[dict]) -> list[dict]:
    """Every (month, township or county) row of the year's progress reports, consistent with the ledger."""
    counted = counted_enrolments(ledger_rows)
    started: dict[tuple[str, str, int], int] = defaultdict(int)  # (township, programme, month)
    certified: dict[tuple[str, int], set] = defaultdict(set)  # (township, month) -> IDs
    transferred: dict[tuple[str, int], set] = defaultdict(set)
    for (_ident, code), (township, _village, month, _row) in counted.items():
        started[(township, code, month)] += 1
    for r in ledger_rows:
        if r["start_date"].year == YEAR:
            key = (r["township"], r["start_date"].month)
            if r["certified"]:
                certified[key].add(id_text(r["id_number"]))
            if r["transferred_to_job"]:
                transferred[key].add(id_text(r["id_number"]))
    trained = distinct_trainees(ledger_rows)
    township_persons = {
        t.name: len(set().union(*(trained.get((t.name, v.name), set()) for v in t.villages)))
        for t in world.townships
    }
    township_task = {
        (t.name, code): sum(world.plan[(t.name, v.name, code)] for v in t.villages)
        for t in world.townships
        for code in PROGRAMME_CODES
    }
    rows = []
    for month in range(1, 13):
        areas = [None] + [t.name for t in world.townships]
        for area in areas:
            names = [t.name for t in world.townships] if area is None else [area]
            row = {
                "township": area,
                "report_month": date(YEAR, month, 1),
                "target_persons": sum(township_persons[n] for n in names),
            }
            for code in PROGRAMME_CODES:
                lc = code.lower()
                row[f"task_{lc}"] = (
                    world.spec.allocation[code] if area is None else township_task[(area, code)]
                )
                row[f"done_{lc}"] = sum(started[(n, code, m)] for n in names for m in range(1, month + 1))
            row["certified_persons"] = len(
                set().union(*(certified[(n, m)] for n in names for m in range(1, month + 1)))
            )
            row["transferred_persons"] = len(
                set().union(*(transferred[(n, m)] for n in names for m in range(1, month + 1)))
            )
            rows.append(row)
    return rows


def plan_reports(world, rng, cycle, ledger_rows) -> list[FilePlan]:
    spec = world.spec
    table = progress_table(world, ledger_rows)
    one_workbook = rng.random() < 0.4
    files: list[FilePlan] = []
    for month in range(1, 13):
        if not files or not one_workbook:
            fmt = cycle.next()
            if one_workbook and fmt.startswith("csv"):
                fmt = "xls"
            style = make_style(rng, "progress_reports", fmt)
            if one_workbook:
                path = f"progress_reports/{spec.name}2015年劳动力培训任务进度统计汇总表（1-12月）"
            else:
                path = "progress_reports/" + rng.choice(
                    (
                        f"{spec.name}2015年{month}月劳动力培训任务进度统计汇总表",
                        f"{spec.short_name} {month}月份 精准扶贫培训进度",
                        f"2015年{month:02d}月_{spec.name}_任务进度统计汇总表",
                    )
                )
            files.append(FilePlan(SOURCES["progress_reports"], path, style))
        file = files[-1]
        report_day = date(YEAR, month, 28) + timedelta(days=rng.randint(4, 8))
        unit = _unit_text(rng, f"{spec.name}人力资源和社会保障局", report_day)
        title = f"{spec.name}2015年{month}月精准扶贫劳动力培训任务进度统计汇总表"
        sheet = SheetPlan(f"{month}月" if one_workbook else _sheet_name(rng, f"{month}月"), title, unit)
        for row in table:
            if row["report_month"].month == month:
                sheet.rows.append(
                    {"city": city_label(world, file.style), "county": county_label(world, file.style), **row}
                )
        file.sheets.append(sheet)
    return files


def ledger_rows_of(files: list[FilePlan]) -> list[dict]:
    return [r for f in files for s in f.sheets for r in s.rows]
