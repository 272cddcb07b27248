"""The checks of docs/defects.md, run on one county's rows before they are written.

This is the generator's proof that each injection fires exactly the check it claims and nothing
else: the generator compares these findings with what it injected, fails on a miss, and records
anything extra as a side-effect defect. It reads the rows as a warehouse would after normalising
(IDs as text, programme codes resolved), not the cells.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import date

from stdnum.cn import ric

from orchestration.generate import vocab
from orchestration.generate.reference import programmes
from orchestration.generate.rows import id_text
from orchestration.generate.scales import YEAR
from orchestration.generate.world import CountyWorld
from orchestration.sources import PROGRAMME_CODES

ROUNDED = re.compile(r"\d(\.\d+)?E\+\d+")
TOTAL_LABELS = ("合计",)


def normalise_text(value) -> str:
    """Text as the reader loads it: full-width to half-width (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalise_id(value) -> str:
    return normalise_text(id_text(value)).upper()


def id_problem(text: str) -> str | None:
    """None for a valid ID; 'rounded' for a number Excel rounded; 'invalid' for anything else."""
    if ROUNDED.fullmatch(text):
        return "rounded"
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        return "invalid"
    if ric.calc_check_digit(text) != text[17]:
        return "invalid"
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "invalid"
    return None if date(1900, 1, 1) <= born <= date(YEAR, 12, 31) else "invalid"


def person_id(text: str) -> str | None:
    """The ID that identifies the person: a valid one as it is, an old 15-digit one upgraded to
    18 characters (19 inserted before the year, check character appended), else None."""
    if id_problem(text) is None:
        return text
    if len(text) == 15 and text.isdigit():
        upgraded = text[:6] + "19" + text[6:]
        upgraded += ric.calc_check_digit(upgraded + "0")
        return upgraded if id_problem(upgraded) is None else None
    return None


def need_is_classified(text: str, category: str) -> bool:
    if category in vocab.CATEGORY_PROGRAMMES:
        return True
    text = unicodedata.normalize("NFKC", text or "")
    for code, prog in programmes().items():
        words = {unicodedata.normalize("NFKC", v) for v in prog.variants} | set(vocab.NEED_KEYWORDS[code])
        if any(w in text for w in words):
            return True
    return False


def split_trades(text: str) -> set[str]:
    return {
        t.strip() for t in re.split(r"[、,，;；]", unicodedata.normalize("NFKC", text or "")) if t.strip()
    }


class Findings:
    def __init__(self):
        self.items: dict[tuple, list] = defaultdict(list)

    def add(self, kind: str, entity: dict, row: dict | None = None) -> None:
        self.items[(kind, tuple(sorted(entity.items())))].append(row)

    def keys(self) -> set[tuple]:
        return set(self.items)


def check_county(world: CountyWorld, files: dict[str, list]) -> Findings:
    found = Findings()
    code = world.spec.code
    progs = programmes()

    def rows(source):
        return [(f, r) for f in files.get(source, []) for s in f.sheets for r in s.rows]

    households = rows("household_members")
    ledger = rows("training_records")

    # -- ID numbers, wherever a person is written down
    registered = set()
    for source, items in (("household_members", households), ("training_records", ledger)):
        for _, r in items:
            text = normalise_id(r["id_number"])
            problem = id_problem(text)
            if problem == "rounded":
                found.add("rounded_id_number", {"id_number": text}, r)
            elif problem == "invalid":
                found.add("invalid_id_number", {"id_number": text}, r)
            person = person_id(text)
            if person is not None:
                text = person
                if text[:6] != code:
                    found.add("id_region_mismatch", {"id_number": text}, r)
                if source == "household_members":
                    registered.add(text)

    # -- needs
    for _, r in households:
        if r["has_training_need"] and not need_is_classified(r["training_need"], r["labour_category"]):
            found.add("unclassified_training_need", {"id_number": normalise_id(r["id_number"])}, r)

    # -- ledger rows
    roster = {}
    for _, r in rows("institutions"):
        roster[normalise_text(r["institution_name"])] = r
        roster[normalise_text(r["institution_code"])] = r
    seen: dict[tuple, int] = defaultdict(int)
    for f, r in ledger:
        text = normalise_id(r["id_number"])
        person = person_id(text)
        valid = person is not None
        pcode = r["_programme"]
        prog = progs[pcode]
        start = r["start_date"]
        if valid and person not in registered:
            found.add("trainee_not_registered", {"id_number": text}, r)
        if valid:
            seen[(person, pcode, start.year)] += 1
        if prog.measured_in_hours:
            length, low, high = r["duration_hours"], prog.min_hours, prog.max_hours
        elif "duration_days" in f.style.columns and r["duration_days"] is not None:
            length, low, high = r["duration_days"], prog.min_days, prog.max_days
        else:
            length, low, high = (r["end_date"] - start).days + 1, prog.min_days, prog.max_days
        entity = {"id_number": text, "programme_code": pcode, "start_date": start.isoformat()}
        if length < low:
            found.add("course_too_short", entity, r)
        elif length > high:
            found.add("course_too_long", entity, r)
        inst = roster.get(normalise_text(r["institution"]))
        if inst is None:
            entity = {"institution": normalise_text(r["institution"]), "id_number": text}
            found.add("institution_not_on_roster", entity, r)
            continue
        icode = inst["institution_code"]
        trade = normalise_text(r["trade"])
        if trade not in split_trades(inst["approved_trades"]):
            found.add("trade_not_approved", {"institution_code": icode, "trade": trade, "id_number": text}, r)
        if start > inst["qualification_valid_until"]:
            entity = {"institution_code": icode, "id_number": text, "start_date": start.isoformat()}
            found.add("institution_qualification_expired", entity, r)
    for (text, pcode, year), n in seen.items():
        if n > 1:
            found.add("duplicate_training", {"id_number": text, "programme_code": pcode, "year": year})

    # -- village sheets against household sheets
    counts: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    households_seen: dict[tuple, set] = defaultdict(set)
    for _, r in households:
        key = (r["township"], r["village"])
        households_seen[key].add(r["household_number"])
        c = counts[key]
        c["poor_population"] += 1
        c["labour_force"] += r["labour_category"] != vocab.NON_LABOUR
        c["persons_with_training_need"] += bool(r["has_training_need"])
        c["certificate_holders"] += bool(r["has_certificate"])
    village_rows = {(r["township"], r["village"]): r for _, r in rows("village_statistics")}
    for key in set(village_rows) | set(counts):
        r = village_rows.get(key)
        expected = dict(counts.get(key, {}), poor_households=len(households_seen.get(key, ())))
        columns = ("poor_households", "poor_population", "labour_force", "persons_with_training_need",
                   "certificate_holders")  # fmt: skip
        if r is None or any(r[c] != expected.get(c, 0) for c in columns):
            found.add(
                "village_count_mismatch", {"county_code": code, "township": key[0], "village": key[1]}, r
            )

    # -- the ledger's persons and trainee-times (the counting rule)
    persons: dict[str, set] = defaultdict(set)
    first: dict[tuple, tuple] = {}
    for _, r in ledger:
        if r["start_date"].year != YEAR:
            continue
        text = normalise_id(r["id_number"])
        persons[r["township"]].add(text)
        key = (text, r["_programme"])
        if key not in first or r["start_date"] < first[key][0]:
            first[key] = (r["start_date"], r["township"])
    done: dict[tuple, int] = defaultdict(int)  # (programme, month) -> trainee-times started that month
    for (_, pcode), (start, _) in first.items():
        done[(pcode, start.month)] += 1

    war_rows = [r for _, r in rows("war_map_targets")]
    report_rows = [r for _, r in rows("progress_reports")]
    for township in world.townships:
        t = township.name
        planned = sum(r["target_persons"] for r in war_rows if r["township"] == t)
        reported = {r["target_persons"] for r in report_rows if r["township"] == t}
        actual = len(persons.get(t, ()))
        if planned != actual or reported - {actual}:
            found.add("target_persons_mismatch", {"county_code": code, "township": t})

    for r in report_rows:
        if r["township"] is not None:
            continue
        month = r["report_month"].month
        for pcode in PROGRAMME_CODES:
            ledger_count = sum(done[(pcode, m)] for m in range(1, month + 1))
            claimed = r[f"done_{pcode.lower()}"]
            entity = {"county_code": code, "programme_code": pcode, "month": f"{YEAR}-{month:02d}"}
            if claimed > ledger_count:
                found.add("report_overclaims_ledger", entity, r)
            elif claimed < ledger_count:
                found.add("report_underclaims_ledger", entity, r)

    for pcode in PROGRAMME_CODES:
        allocation = world.spec.allocation[pcode]
        planned = sum(r[f"plan_{pcode.lower()}"] for r in war_rows)
        tasks = [r[f"task_{pcode.lower()}"] for r in report_rows if r["township"] is None]
        if planned > allocation or any(t > allocation for t in tasks):
            found.add("task_inflated", {"county_code": code, "programme_code": pcode, "year": YEAR})
    return found
