"""One county's consistent world: townships, villages, households, people, institutions, courses.

Nothing here is messy or wrong: this is the truth the sheets are drawn from. Defects are injected
later, on the sheet rows (defects.py), and the mess is added when rows become cells (layout.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from stdnum.cn import ric

from orchestration.generate import vocab
from orchestration.generate.reference import Programme, programmes
from orchestration.generate.scales import CUMULATIVE_PACE, YEAR, Scale
from orchestration.sources import PROGRAMME_CODES

REFERENCE_DAY = date(YEAR, 6, 30)  # ages are counted on this day


@dataclass(frozen=True)
class CountySpec:
    """What the main process tells a worker about one county."""

    index: int  # position in the run's county list (keeps IDs of people who moved in unique)
    code: str
    name: str
    short_name: str
    city_code: str
    city_name: str
    city_short_name: str
    population: int
    allocation: dict[str, int]  # programme code -> 2015 task
    foreign_codes: tuple[str, ...]  # other counties' codes, birthplaces of people who moved in


class Person:
    __slots__ = (
        "idx", "household", "name", "sex", "birth", "id_number", "ethnicity", "education", "relation",
        "category", "employment", "skill", "has_need", "need_text", "desired_trade", "has_certificate",
        "programmes",
    )  # fmt: skip

    def __init__(self, idx, household, name, sex, birth, relation, ethnicity):
        self.idx = idx
        self.household = household
        self.name = name
        self.sex = sex
        self.birth = birth
        self.relation = relation
        self.ethnicity = ethnicity
        self.id_number = ""
        self.education = ""
        self.category = vocab.NON_LABOUR
        self.employment = ""
        self.skill = "无"
        self.has_need = False
        self.need_text = ""
        self.desired_trade = ""
        self.has_certificate = False
        self.programmes: list[str] = []

    @property
    def age(self) -> int:
        b = self.birth
        return REFERENCE_DAY.year - b.year - ((REFERENCE_DAY.month, REFERENCE_DAY.day) < (b.month, b.day))


@dataclass
class Household:
    number: str
    village: Village
    collected_on: date
    members: list[Person] = field(default_factory=list)

    @property
    def head(self) -> Person:
        return self.members[0]


@dataclass
class Village:
    name: str
    township: Township
    population_target: int
    minority: bool = False
    households: list[Household] = field(default_factory=list)
    total_households: int = 0  # all households of the village, poor or not
    total_population: int = 0


@dataclass
class Township:
    name: str
    villages: list[Village] = field(default_factory=list)
    responsible: str = ""


@dataclass
class Institution:
    code: str
    name: str
    kind: str  # 公办职业院校 | 技工院校 | 民办培训机构 | 其他
    trades: dict[str, tuple[str, ...]]  # programme -> approved trades
    capacity: int
    valid_until: date
    contact: str
    phone: str

    @property
    def approved_trades(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for trades in self.trades.values():
            for t in trades:
                seen[t] = None
        return tuple(seen)


@dataclass
class Course:
    number: int
    programme: str
    institution: Institution
    trade: str
    start: date
    end: date
    days: int
    hours: int | None  # class hours, for programmes measured in hours


@dataclass
class Enrolment:
    person: Person
    course: Course
    completed: bool
    certified: bool
    certificate_number: str
    certificate_level: str
    transferred: bool
    employer: str
    subsidy: int
    fund_source: str
    satisfaction: str
    employer_satisfaction: str


@dataclass
class CountyWorld:
    spec: CountySpec
    townships: list[Township]
    persons: list[Person]
    institutions: list[Institution]
    courses: list[Course]
    enrolments: list[Enrolment]
    # war-map plan: (township, village, programme) -> planned trainee-times; sums to the allocation
    plan: dict[tuple[str, str, str], int]
    used_ids: set[str]


# ---------------------------------------------------------------------------------------------
# small helpers


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder, ties to the first)."""
    if not weights:
        return []
    s = sum(weights)
    if s <= 0:
        weights, s = [1.0] * len(weights), float(len(weights))
    exact = [total * w / s for w in weights]
    base = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def id_with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def person_name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    surname = surname or rng.choice(vocab.SURNAMES)
    chars = vocab.GIVEN_MALE if sex == "男" else vocab.GIVEN_FEMALE
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return surname + given


def new_id(rng: random.Random, prefix: str, birth: date, sex: str, used: set[str]) -> str:
    """A valid 18-character ID for the prefix and birth date, unique among `used`."""
    parity = 1 if sex == "男" else 0
    stem = prefix + birth.strftime("%Y%m%d")
    while True:
        seq = rng.randrange(0, 500) * 2 + parity
        if seq == 0:
            continue
        number = id_with_check(f"{stem}{seq:03d}")
        if number not in used:
            used.add(number)
            return number


def random_day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


# ---------------------------------------------------------------------------------------------
# places


def _place_names(rng: random.Random, count: int, suffixes: tuple[str, ...], taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        name = (
            rng.choice(vocab.PLACE_FIRST)
            + rng.choice(vocab.VILLAGE_MIDDLE)
            + rng.choice(vocab.PLACE_SECOND)
            + rng.choice(suffixes)
        )
        if name not in taken and len(name) >= 3:
            taken.add(name)
            names.append(name)
    return names


def _build_places(rng: random.Random, spec: CountySpec, scale: Scale) -> list[Township]:
    n_townships = rng.randint(*scale.townships)
    taken = {"城关镇"}
    names = ["城关镇"] + _place_names(rng, n_townships - 1, ("镇", "乡", "乡"), taken)
    township_people = apportion(spec.population, [rng.uniform(0.6, 1.4) for _ in names])
    townships = []
    for tname, people in zip(names, township_people, strict=True):
        township = Township(tname)
        n_villages = rng.randint(*scale.villages)
        village_names = _place_names(rng, n_villages, ("村",), set())
        village_people = apportion(people, [rng.uniform(0.5, 1.5) for _ in village_names])
        township.villages = [
            Village(v, township, p) for v, p in zip(village_names, village_people, strict=True)
        ]
        townships.append(township)
    return townships


def _ethnic_mix(spec: CountySpec) -> tuple[tuple[str, int], ...]:
    for fragment, mix in vocab.ETHNIC_MIX_BY_NAME.items():
        if fragment in spec.name:
            return mix
    return vocab.ETHNIC_MIX_BY_CITY.get(spec.city_code, vocab.ETHNIC_MIX_DEFAULT)


# ---------------------------------------------------------------------------------------------
# households and people

HOUSEHOLD_SIZES = ((1, 6), (2, 14), (3, 20), (4, 25), (5, 18), (6, 10), (7, 5), (8, 2))


def _birth(rng: random.Random, age: int) -> date:
    age = max(0, min(age, 92))
    year = REFERENCE_DAY.year - age
    # born between July of year-1 and June of year keeps the age exact on the reference day
    return random_day(rng, date(year - 1, 7, 1), date(year, 6, 30))


def _household_ages(rng: random.Random, size: int) -> list[tuple[str, str, int]]:
    """(relation, sex, age) of the members, head first."""
    head_sex = "男" if rng.random() < 0.85 else "女"
    head_age = rng.randint(26, 74)
    members = [("户主", head_sex, head_age)]
    if size >= 2 and rng.random() < 0.9:
        members.append(("配偶", "女" if head_sex == "男" else "男", max(20, head_age + rng.randint(-6, 4))))
    if head_age < 50 and size - len(members) >= 2 and rng.random() < 0.25:
        members.append((rng.choice(("之父", "之母")), "", min(90, head_age + rng.randint(22, 32))))
    children = 0
    while len(members) < size:
        oldest_child = head_age - 20
        if head_age >= 52 and children >= 1 and rng.random() < 0.55:
            relation = rng.choice(vocab.RELATIONS_GRANDCHILD)
            members.append(
                (relation, "男" if relation == "之孙子" else "女", rng.randint(0, min(15, head_age - 45)))
            )
        elif head_age >= 52 and children >= 1 and rng.random() < 0.3:
            members.append(("之儿媳", "女", rng.randint(20, max(21, oldest_child))))
        else:
            relation = rng.choice(vocab.RELATIONS_CHILD)
            age = rng.randint(max(0, head_age - 45), max(0, oldest_child))
            members.append((relation, "男" if relation == "之子" else "女", age))
            children += 1
    return [(r, s or ("男" if r == "之父" else "女"), a) for r, s, a in members]


def _describe(rng: random.Random, p: Person) -> None:
    """Education, labour category, employment, skill and certificate from age and chance."""
    age = p.age
    if age < 16:
        p.education = "学龄前" if age < 6 else ("小学在读" if age < 12 else "初中在读")
        p.employment = "学龄前" if age < 6 else "在校"
        return
    retire = 60 if p.sex == "男" else 55
    if age <= 22:
        if rng.random() < 0.35:
            p.education, p.employment = rng.choice(("高中在读", "中专在读", "大学在读")), "在校"
            return
        p.education = pick(rng, vocab.EDUCATION_YOUNG)
        p.category = vocab.NEW_LABOUR if age >= 18 and rng.random() < 0.2 else vocab.TWO_AFTER_CAT
        p.employment = pick(rng, (("无业", 40), ("务工", 35), ("务农", 25)))
    elif age <= retire:
        p.education = pick(rng, vocab.EDUCATION_ADULT)
        roll = rng.random()
        if roll < 0.05:
            p.employment = "无业"  # unable to work: stays 非劳动力
            return
        if age <= 26 and roll < 0.35:
            p.category = vocab.NEW_LABOUR
            p.employment = pick(rng, (("无业", 50), ("务工", 50)))
        elif roll < 0.10:
            p.category = vocab.LEADER_CAT
            p.employment = pick(rng, (("个体经营", 60), ("务农", 40)))
        elif roll < 0.58:
            p.category = vocab.TRANSFER
            p.employment = pick(rng, (("务工", 55), ("无业", 30), ("务农", 15)))
        else:
            p.category = vocab.FARMING
            p.employment = "务农"
    else:
        p.education = pick(rng, vocab.EDUCATION_ADULT[:3])
        p.employment = pick(rng, (("务农", 50), ("无", 50)))
        return
    p.skill = pick(rng, vocab.SKILL_LEVELS)
    p.has_certificate = p.skill != "无" and rng.random() < 0.8 or rng.random() < 0.03


def _build_people(
    rng: random.Random, spec: CountySpec, townships: list[Township], used: set[str]
) -> list[Person]:
    mix = _ethnic_mix(spec)
    minority_share = 1 - dict(mix).get("汉族", 0) / 100
    persons: list[Person] = []
    for t_index, township in enumerate(townships, start=1):
        township.responsible = person_name(rng, "男" if rng.random() < 0.8 else "女")
        for v_index, village in enumerate(township.villages, start=1):
            village_ethnic = pick(rng, mix)
            village.minority = village_ethnic != "汉族" and minority_share > 0
            team_day = random_day(rng, date(YEAR, 4, 20), date(YEAR, 8, 20))
            remaining, h_index = village.population_target, 0
            while remaining > 0:
                size = min(remaining, int(pick(rng, tuple((str(s), w) for s, w in HOUSEHOLD_SIZES))))
                remaining -= size
                h_index += 1
                number = f"{spec.code}{t_index:03d}{v_index:03d}{h_index:04d}"
                collected = team_day + timedelta(days=rng.randrange(0, 12))
                household = Household(number, village, collected)
                ethnic = village_ethnic if rng.random() < 0.85 else pick(rng, mix)
                surname = rng.choice(vocab.SURNAMES)
                for relation, sex, age in _household_ages(rng, size):
                    same_surname = relation in ("户主", "之子", "之女", "之孙子", "之孙女", "之父")
                    name = person_name(rng, sex, surname if same_surname else None)
                    p = Person(len(persons), household, name, sex, _birth(rng, age), relation, ethnic)
                    p.id_number = new_id(rng, spec.code, p.birth, sex, used)
                    _describe(rng, p)
                    household.members.append(p)
                    persons.append(p)
                village.households.append(household)
            poor = len(village.households)
            village.total_households = poor + rng.randint(poor // 3, poor * 2 + 5)
            village.total_population = village.population_target + (village.total_households - poor) * 4
    return persons


# ---------------------------------------------------------------------------------------------
# who trains in what

PROGRAMME_ORDER = ("TWO_AFTER", "LEADER", "UPSKILL", "FARMER", "STARTUP", "BRAND", "EMPLOY")


def _eligible(p: Person, code: str, strict: bool) -> bool:
    c, age = p.category, p.age
    if c == vocab.NON_LABOUR:
        return False
    if code == "TWO_AFTER":
        return c == vocab.TWO_AFTER_CAT if strict else age <= 26
    if code == "LEADER":
        return c == vocab.LEADER_CAT if strict else 25 <= age <= 55
    if code == "UPSKILL":
        return (c == vocab.TRANSFER and p.employment == "务工") if strict else p.employment == "务工"
    if code == "FARMER":
        return c == vocab.FARMING if strict else p.employment == "务农"
    if code == "STARTUP":
        return c in (vocab.LEADER_CAT, vocab.NEW_LABOUR) if strict else c != vocab.TWO_AFTER_CAT
    return c in (vocab.TRANSFER, vocab.NEW_LABOUR) if strict else c != vocab.TWO_AFTER_CAT


def _assign_programmes(
    rng: random.Random, persons: list[Person], demand: dict[str, int]
) -> dict[str, list[Person]]:
    labour = [p for p in persons if p.category != vocab.NON_LABOUR]
    rng.shuffle(labour)
    chosen: dict[str, list[Person]] = {}
    for code in PROGRAMME_ORDER:
        want, picked = demand[code], []
        # first people of the programme's own group who train in nothing yet, then anyone fitting
        for strict, free_only in ((True, True), (False, True), (False, False)):
            for p in labour:
                if len(picked) >= want:
                    break
                if (
                    (not free_only or not p.programmes)
                    and code not in p.programmes
                    and _eligible(p, code, strict)
                ):
                    p.programmes.append(code)
                    picked.append(p)
        chosen[code] = picked
    return chosen


def _describe_needs(rng: random.Random, persons: list[Person]) -> None:
    for p in persons:
        if p.programmes:
            code = p.programmes[0]
        elif p.category != vocab.NON_LABOUR and rng.random() < 0.55:
            code = rng.choice(vocab.CATEGORY_PROGRAMMES.get(p.category, ("EMPLOY", "STARTUP", "TWO_AFTER")))
        else:
            continue
        p.has_need = True
        p.need_text, p.desired_trade = rng.choice(vocab.NEEDS[code])


# ---------------------------------------------------------------------------------------------
# institutions


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = "".join(str(rng.randrange(10)) for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(rng: random.Random, prefix2: str, region: str) -> str:
    from stdnum.cn import uscc as uscc_mod

    first17 = prefix2 + region + _org_code(rng)
    return first17 + uscc_mod.calc_check_digit(first17)


def _trade_subset(rng: random.Random, code: str, share: float) -> tuple[str, ...]:
    trades = vocab.TRADES[code]
    k = max(1, min(len(trades) - 1, round(len(trades) * share)))
    return tuple(sorted(rng.sample(trades, k), key=trades.index))


def _build_institutions(rng: random.Random, spec: CountySpec, scale: Scale) -> list[Institution]:
    n = rng.randint(*scale.institutions)
    short = spec.short_name
    plans: list[tuple[str, str, str, tuple[str, ...]]] = [
        ("公办职业院校", f"{spec.name}职业中等专业学校", "12", ("TWO_AFTER", "EMPLOY", "BRAND")),
        ("技工院校", f"{spec.name}技工学校", "12", ("TWO_AFTER", "EMPLOY", "UPSKILL")),
        ("其他", f"{spec.name}农业广播电视学校", "12", ("FARMER", "LEADER")),
    ]
    # the first private one (its licence runs out in mid-2015) and the next two cover every programme
    private_programmes = (
        ("EMPLOY", "BRAND"), ("STARTUP", "EMPLOY", "UPSKILL"), ("FARMER", "LEADER", "STARTUP"),
        ("EMPLOY", "BRAND", "UPSKILL"), ("EMPLOY", "STARTUP"), ("LEADER", "STARTUP"), ("EMPLOY",),
        ("UPSKILL", "EMPLOY", "FARMER"),
    )  # fmt: skip
    names = {p[1] for p in plans}
    i = 0
    while len(plans) < n:
        name = short + rng.choice(vocab.INSTITUTION_BRANDS) + rng.choice(vocab.PRIVATE_SUFFIXES)
        if name in names:
            continue
        names.add(name)
        prefix = "91" if name.endswith("有限公司") else "52"
        plans.append(("民办培训机构", name, prefix, private_programmes[i % len(private_programmes)]))
        i += 1
    institutions = []
    for index, (kind, name, prefix, codes) in enumerate(plans):
        trades = {code: _trade_subset(rng, code, rng.uniform(0.45, 0.75)) for code in codes}
        # one private institution's licence runs out in mid-2015: it only starts courses before then
        if index == 3:
            valid_until = date(YEAR, rng.choice((5, 6, 7)), 30)
        else:
            valid_until = date(rng.randint(YEAR + 1, YEAR + 4), 12, 31)
        institutions.append(
            Institution(
                code=uscc(rng, prefix, spec.code),
                name=name,
                kind=kind,
                trades=trades,
                capacity=rng.randrange(200, 2000, 50),
                valid_until=valid_until,
                contact=person_name(rng, "男" if rng.random() < 0.6 else "女"),
                phone=rng.choice(("0932-", "0939-", "0930-", "0933-")) + f"{rng.randrange(1000000, 9999999)}"
                if rng.random() < 0.5
                else f"1{rng.choice('3589')}{rng.randrange(100000000, 999999999)}",
            )
        )
    return institutions


# ---------------------------------------------------------------------------------------------
# courses


def _course_length(rng: random.Random, prog: Programme) -> tuple[int, int | None]:
    """(calendar days, class hours) of a course that respects the programme's [min, 1.5 × min]."""
    if prog.measured_in_hours:
        hours = rng.choice((80, 80, 88, 96, 100, 120))
        return math.ceil(hours / 8), hours
    low, high = prog.min_days, prog.max_days
    days = (
        rng.randint(low, low + max(0, (high - low) // 2)) if rng.random() < 0.85 else rng.randint(low, high)
    )
    return days, None


def _month_counts(rng: random.Random, total: int) -> list[int]:
    increments = [CUMULATIVE_PACE[0]] + [CUMULATIVE_PACE[i] - CUMULATIVE_PACE[i - 1] for i in range(1, 12)]
    return apportion(total, [w * rng.uniform(0.8, 1.2) for w in increments])


def _class_sizes(rng: random.Random, count: int) -> list[int]:
    sizes = []
    while count > 0:
        size = min(count, rng.randint(15, 45))
        if 0 < count - size < 8:  # no tiny tail class
            size = count
        sizes.append(size)
        count -= size
    return sizes


def _build_courses(
    rng: random.Random, spec: CountySpec, chosen: dict[str, list[Person]], institutions: list[Institution]
) -> tuple[list[Course], list[Enrolment]]:
    progs = programmes()
    courses: list[Course] = []
    enrolments: list[Enrolment] = []
    cert_seq = 0
    for code in PROGRAMME_CODES:
        prog = progs[code]
        people = list(chosen[code])
        rng.shuffle(people)
        offering = [i for i in institutions if code in i.trades]
        position = 0
        for month, count in enumerate(_month_counts(rng, len(people)), start=1):
            for size in _class_sizes(rng, count):
                start = random_day(rng, date(YEAR, month, 1), date(YEAR, month, 28))
                open_ = [i for i in offering if i.valid_until >= start]
                weights = [
                    1 if i.kind == "民办培训机构" else (3 if code == "TWO_AFTER" else 0.4) for i in open_
                ]
                inst = rng.choices(open_, weights)[0]
                days, hours = _course_length(rng, prog)
                course = Course(
                    len(courses) + 1, code, inst, rng.choice(inst.trades[code]), start,
                    start + timedelta(days=days - 1), days, hours,
                )  # fmt: skip
                courses.append(course)
                for p in people[position : position + size]:
                    completed = course.end <= date(YEAR, 12, 31)
                    certified = completed and rng.random() < 0.7
                    cert_seq += certified
                    transferred = completed and code in ("EMPLOY", "BRAND", "UPSKILL") and rng.random() < 0.6
                    low, high = vocab.SUBSIDY[code]
                    enrolments.append(
                        Enrolment(
                            person=p,
                            course=course,
                            completed=completed,
                            certified=certified,
                            certificate_number=f"{YEAR}{spec.code}{cert_seq:06d}" if certified else "",
                            certificate_level=rng.choice(vocab.CERTIFICATE_LEVELS[code]) if certified else "",
                            transferred=transferred,
                            employer=rng.choice(vocab.EMPLOYERS) if transferred else "",
                            subsidy=rng.randrange(low, high + 1, 100) if high > low else low,
                            fund_source=pick(rng, vocab.FUND_SOURCES[code]),
                            satisfaction=pick(
                                rng,
                                (("满意", 60), ("基本满意", 30), ("不满意", 10))
                                if inst.kind == "民办培训机构"
                                else (("满意", 80), ("基本满意", 18), ("不满意", 2)),
                            ),
                            employer_satisfaction=pick(rng, (("满意", 70), ("基本满意", 25), ("不满意", 5)))
                            if transferred
                            else "",
                        )
                    )
                position += size
    return courses, enrolments


def _build_plan(
    spec: CountySpec, townships: list[Township], enrolments: list[Enrolment]
) -> dict[tuple[str, str, str], int]:
    """Each township's share of the county's allocation, spread over its villages by who trains there."""
    trained: dict[tuple[str, str, str], int] = {}
    for e in enrolments:
        v = e.person.household.village
        key = (v.township.name, v.name, e.course.programme)
        trained[key] = trained.get(key, 0) + 1
    plan = {}
    for code in PROGRAMME_CODES:
        t_weights = [sum(trained.get((t.name, v.name, code), 0) for v in t.villages) + 0.3 for t in townships]
        for township, t_share in zip(townships, apportion(spec.allocation[code], t_weights), strict=True):
            v_weights = [trained.get((township.name, v.name, code), 0) + 0.3 for v in township.villages]
            for village, share in zip(township.villages, apportion(t_share, v_weights), strict=True):
                plan[(township.name, village.name, code)] = share
    return plan


def build_county(spec: CountySpec, scale: Scale, seed: int) -> CountyWorld:
    rng = random.Random(f"{seed}:{spec.code}:world")
    used: set[str] = set()
    townships = _build_places(rng, spec, scale)
    persons = _build_people(rng, spec, townships, used)
    # trainee-times this year: the allocation, some counties ahead of it, some behind
    demand = {code: max(0, round(spec.allocation[code] * rng.uniform(0.9, 1.1))) for code in PROGRAMME_CODES}
    chosen = _assign_programmes(rng, persons, demand)
    _describe_needs(rng, persons)
    institutions = _build_institutions(rng, spec, scale)
    courses, enrolments = _build_courses(rng, spec, chosen, institutions)
    plan = _build_plan(spec, townships, enrolments)
    return CountyWorld(spec, townships, persons, institutions, courses, enrolments, plan, used)
