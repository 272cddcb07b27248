"""Inject the field's problems into one county's rows and record each as ground truth.

Each injection changes one row so that exactly one check (docs/defects.md) fires for exactly one
entity, and leaves every other check quiet: an ID defect goes to a person with a single ledger row
(or to someone never trained), an unregistered trainee takes over an existing trainee's row rather
than adding a person, and so on. Base-row injections run before the aggregates are computed, the
aggregate ones after (see rows.py). The oracle (oracle.py) then verifies the promise.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from orchestration.generate import vocab
from orchestration.generate.layout import csv_rounded
from orchestration.generate.oracle import normalise_id, normalise_text
from orchestration.generate.plan import FilePlan
from orchestration.generate.reference import programmes
from orchestration.generate.rows import NumericId, id_text, ledger_row
from orchestration.generate.scales import YEAR
from orchestration.generate.world import CountyWorld, id_with_check, new_id, person_name
from orchestration.sources import PROGRAMME_CODES

KINDS = (
    "target_persons_mismatch",
    "report_overclaims_ledger",
    "report_underclaims_ledger",
    "task_inflated",
    "unclassified_training_need",
    "course_too_short",
    "course_too_long",
    "duplicate_training",
    "invalid_id_number",
    "rounded_id_number",
    "id_region_mismatch",
    "trainee_not_registered",
    "institution_not_on_roster",
    "trade_not_approved",
    "institution_qualification_expired",
    "village_count_mismatch",
)
BASE_KINDS = KINDS[4:15]
AGGREGATE_KINDS = KINDS[:4] + KINDS[15:]
# A broken ID whose person is on no household sheet (true_person null): in every third county
# the ledger row given an invalid ID belongs to such a stranger, in another third the one given a
# rounded ID (county index + offset ≡ 2 mod 3). The first county (index 0) has none, so the tiny
# and county worlds are as they were.
STRANGER_OFFSET = {"invalid_id_number": 0, "rounded_id_number": 1}


def rounded_id(number: str, is_csv: bool) -> tuple[float, str]:
    """An ID typed as a number: the value Excel keeps (15 significant digits) and its text."""
    value = float(f"{int(number):.15g}")
    return value, csv_rounded(value) if is_csv else f"{value:.15G}"


def tag(row: dict, kind: str, source: str, entity: dict, detail: str) -> dict:
    record = {"kind": kind, "source": source, "entity": entity, "detail": detail, "_row_ref": row}
    row.setdefault("_defects", []).append(record)
    return record


class Injector:
    def __init__(
        self,
        world: CountyWorld,
        rng: random.Random,
        counts: dict[str, int],
        files: dict[str, list],
        rng_strangers: random.Random,
    ):
        self.world = world
        self.rng = rng
        # the strangers' names and IDs: a stream of their own, so every other injection draws as before
        self.rng_strangers = rng_strangers
        self.counts = counts
        self.files = files  # source name -> FilePlans
        self.touched_rows: set[int] = set()
        self.touched_people: set[int] = set()
        self.records: list[dict] = []
        self.code = world.spec.code
        self._rows: dict[str, list] = {}
        self._pools: dict[str, list] = {}

    # -- helpers ----------------------------------------------------------------------------

    def rows(self, source: str) -> list[tuple[FilePlan, object, dict]]:
        if source not in self._rows:
            self._rows[source] = [(f, s, r) for f in self.files[source] for s in f.sheets for r in s.rows]
        return self._rows[source]

    def free(self, row: dict) -> bool:
        person = row.get("_person")
        return id(row) not in self.touched_rows and (person is None or person.idx not in self.touched_people)

    def take(self, row: dict) -> None:
        self.touched_rows.add(id(row))
        if row.get("_person") is not None:
            self.touched_people.add(row["_person"].idx)

    def pick(self, candidates: list, n: int) -> list:
        return self.rng.sample(candidates, min(n, len(candidates)))

    def pick_free(self, pool: list, n: int = 1) -> list:
        """n untouched entries of a (row or (file, sheet, row)) pool; cheap for big pools."""
        chosen: list = []
        for _ in range(40 * n) if pool else ():
            entry = pool[self.rng.randrange(len(pool))]
            row = entry[2] if isinstance(entry, tuple) else entry
            if self.free(row) and all(entry is not c for c in chosen):
                chosen.append(entry)
                if len(chosen) == n:
                    return chosen
        rest = [
            e
            for e in pool
            if self.free(e[2] if isinstance(e, tuple) else e) and all(e is not c for c in chosen)
        ]
        return chosen + self.pick(rest, n - len(chosen))

    def record(self, row, kind, source, entity, detail) -> None:
        self.records.append(tag(row, kind, source, entity, detail))
        self.take(row)

    def single_row_trainees(self) -> list[tuple[FilePlan, object, dict]]:
        """Ledger rows of people with no other ledger row (fixed before any injection)."""
        if "single" not in self._pools:
            rows = self.rows("training_records")
            per_person = Counter(r["_person"].idx for _, _, r in rows if r.get("_person"))
            self._pools["single"] = [
                x for x in rows if x[2].get("_person") and per_person[x[2]["_person"].idx] == 1
            ]
        return self._pools["single"]

    def untrained_members(self) -> list[tuple[FilePlan, object, dict]]:
        if "untrained" not in self._pools:
            self._pools["untrained"] = [
                x for x in self.rows("household_members") if not x[2]["_person"].programmes
            ]
        return self._pools["untrained"]

    # -- base rows ----------------------------------------------------------------------------

    def inject_base(self) -> None:
        for kind in BASE_KINDS:
            for i in range(self.counts.get(kind, 0)):
                getattr(self, kind)(i)

    def unclassified_training_need(self, i: int) -> None:
        if "need" not in self._pools:
            with_need = [r for _, _, r in self.rows("household_members") if r["has_training_need"]]
            new_labour = [r for r in with_need if r["labour_category"] == vocab.NEW_LABOUR]
            self._pools["need"] = with_need
            self._pools["new_labour_need"] = new_labour
        # else turn a labourer with a need into new labour: the village counts stay the same
        for r in self.pick_free(self._pools["new_labour_need"]) or self.pick_free(self._pools["need"]):
            r["labour_category"] = vocab.NEW_LABOUR
            r["training_need"] = self.rng.choice(vocab.UNCLASSIFIABLE_NEEDS)
            r["desired_trade"] = ""
            self.record(
                r, "unclassified_training_need", "household_members", {"id_number": r["id_number"]},
                f"need {r['training_need']!r} of a {vocab.NEW_LABOUR} fits no programme",
            )  # fmt: skip

    def _bad_id(self, number: str, variant: int):
        """An ID that fails validation, one way or another."""
        rng = self.rng
        if variant == 0:  # wrong check character
            wrong = [c for c in "0123456789X" if c != number[-1]]
            return number[:-1] + rng.choice(wrong), "check digit wrong"
        if variant == 1:  # a birth date that does not exist, with a correct check digit
            stem = number[:10] + rng.choice(("0230", "1301", "0431", "0010", "1132")) + number[14:17]
            return id_with_check(stem), "impossible birth date"
        if variant == 2:  # a digit dropped
            k = rng.randrange(6, 17)
            return number[:k] + number[k + 1 :], "17 characters"
        if variant == 3:  # the old 15-digit ID, typed as a number (15 digits survive)
            old = number[:6] + number[8:14] + number[14:17]
            return NumericId(old, float(int(old))), "old 15-digit ID"
        k = rng.randrange(6, 17)  # a letter typed for a digit
        letter = {"0": "O", "1": "l", "5": "S", "8": "B"}.get(number[k], "O")
        return number[:k] + letter + number[k + 1 :], "letter in place of a digit"

    def _id_target(self, i: int):
        """Alternate between a ledger row (a one-row trainee) and a never-trained household member."""
        in_ledger = (i + self.world.spec.index) % 2 == 0
        chosen = self.pick_free(self.single_row_trainees() if in_ledger else self.untrained_members())
        if not chosen:
            in_ledger = not in_ledger
            chosen = self.pick_free(self.single_row_trainees() if in_ledger else self.untrained_members())
        return (
            (chosen[0], "training_records" if in_ledger else "household_members") if chosen else (None, None)
        )

    @staticmethod
    def true_person(row: dict, true_id: str) -> dict | None:
        """Who is behind a broken ID, for scoring person matching: the registered person's
        right ID, or None when the row's person is on no household sheet."""
        return {"id_number": true_id} if row.get("_person") is not None else None

    def _is_stranger_case(self, kind: str, source: str | None) -> bool:
        return source == "training_records" and (self.world.spec.index + STRANGER_OFFSET[kind]) % 3 == 2

    def _make_stranger(self, r: dict, acceptable=lambda number: True) -> str:
        """The ledger row becomes someone on no household sheet, of another name and a birth date
        one to twelve months from the registered trainee's (of an age the programme takes); that
        person has no ledger row left. Returns the stranger's right ID, the first that passes
        ``acceptable``."""
        rng = self.rng_strangers
        self.take(r)  # the registered person too: no other injection picks them
        sex = rng.choice(("男", "女"))
        born = r["_person"].birth + timedelta(days=rng.choice((-1, 1)) * rng.randint(30, 365))
        number = new_id(rng, self.code, born, sex, self.world.used_ids)
        while not acceptable(number):
            number = new_id(rng, self.code, born, sex, self.world.used_ids)
        r["trainee_name"] = person_name(rng, sex)
        r["id_number"] = number
        r["_person"] = None
        return number

    def invalid_id_number(self, i: int) -> None:
        target, source = self._id_target(i)
        if target is None:
            return
        _, _, r = target
        variant = (i + self.world.spec.index) % 5
        if self._is_stranger_case("invalid_id_number", source):
            self._make_stranger(r)
            # an old 15-digit ID still identifies its person: a stranger's would be an
            # unregistered trainee, not a broken ID; a letter typed for a digit instead
            variant = 4 if variant == 3 else variant
        true_id = r["id_number"]
        bad, how = self._bad_id(true_id, variant)
        r["id_number"] = bad
        self.record(
            r, "invalid_id_number", source, {"id_number": normalise_id(bad)}, f"{how}: {id_text(bad)}"
        )
        self.records[-1]["true_person"] = self.true_person(r, true_id)

    def rounded_id_number(self, i: int) -> None:
        taken = {id_text(r["id_number"]) for _, _, r in self.rows("training_records")}
        for _attempt in range(20):
            target, source = self._id_target(i + _attempt)
            if target is None:
                return
            file, _, r = target
            number = r["id_number"]
            if not number[-1].isdigit():
                continue  # an ID ending in X cannot be typed as a number
            value, text = rounded_id(number, file.style.is_csv)
            if text in taken:
                continue  # would merge two people
            if self._is_stranger_case("rounded_id_number", source):
                # the row, chosen as for anyone, goes to a stranger whose ID can be typed as a number
                number = self._make_stranger(
                    r, lambda n, csv=file.style.is_csv: n[-1].isdigit() and rounded_id(n, csv)[1] not in taken
                )
                value, text = rounded_id(number, file.style.is_csv)
            r["id_number"] = NumericId(text, value)
            self.record(
                r, "rounded_id_number", source, {"id_number": text}, f"{number} typed as a number: {text}"
            )
            self.records[-1]["true_person"] = self.true_person(r, number)
            return

    def id_region_mismatch(self, i: int) -> None:
        for _, _, r in self.pick_free(self.untrained_members()):
            p = r["_person"]
            prefix = self.rng.choice(self.world.spec.foreign_codes)
            number = new_id(self.rng, prefix, p.birth, p.sex, self.world.used_ids)
            r["id_number"] = number
            self.record(
                r, "id_region_mismatch", "household_members", {"id_number": number},
                f"registered in {self.code}, ID issued in {prefix}",
            )  # fmt: skip

    def trainee_not_registered(self, i: int) -> None:
        for _, _, r in self.pick_free(self.single_row_trainees()):
            p = r["_person"]
            number = new_id(self.rng, self.code, p.birth, p.sex, self.world.used_ids)
            r["trainee_name"] = person_name(self.rng, p.sex)
            r["id_number"] = number
            self.take(r)
            r["_person"] = None
            self.records.append(
                tag(r, "trainee_not_registered", "training_records", {"id_number": number},
                    "trainee is on no household sheet")
            )  # fmt: skip

    def _ledger_free(self) -> list[tuple]:
        touched_rows, touched_people = self.touched_rows, self.touched_people
        return [
            x
            for x in self.rows("training_records")
            if x[2].get("_person") is not None
            and id(x[2]) not in touched_rows
            and x[2]["_person"].idx not in touched_people
        ]

    def course_too_short(self, i: int) -> None:
        self._course_length(i, short=True)

    def course_too_long(self, i: int) -> None:
        self._course_length(i, short=False)

    def _course_length(self, i: int, short: bool) -> None:
        rows = self._ledger_free()
        # spread over programmes: the i-th injection prefers the i-th programme present
        present = sorted({r["_programme"] for _, _, r in rows}, key=PROGRAMME_CODES.index)
        if not present:
            return
        code = present[(i * 3 + self.world.spec.index) % len(present)]
        rows = [x for x in rows if x[2]["_programme"] == code]
        prog = programmes()[code]
        for _, _, r in self.pick(rows, 1):
            rng = self.rng
            if prog.measured_in_hours:
                hours = (
                    rng.choice((40, 48, 56, 64, 72))
                    if short
                    else prog.max_hours + rng.choice((8, 16, 24, 40))
                )
                r["duration_hours"] = hours
                r["end_date"] = r["start_date"] + timedelta(days=math.ceil(hours / 8) - 1)
                what = f"{hours} class hours, allowed {prog.min_hours}–{prog.max_hours}"
            else:
                if short:
                    days = rng.randint(max(1, prog.min_days // 3), prog.min_days - 1)
                else:
                    days = prog.max_days + rng.randint(1, max(2, prog.min_days // 2))
                r["duration_days"] = days
                r["end_date"] = r["start_date"] + timedelta(days=days - 1)
                what = f"{days} days, allowed {prog.min_days}–{prog.max_days}"
            kind = "course_too_short" if short else "course_too_long"
            entity = {
                "id_number": r["id_number"],
                "programme_code": code,
                "start_date": r["start_date"].isoformat(),
            }
            self.record(r, kind, "training_records", entity, what)

    def duplicate_training(self, i: int) -> None:
        rng = self.rng
        candidates = self._ledger_free()
        rng.shuffle(candidates)
        for file, sheet, r in candidates:
            code = r["_programme"]
            later = [
                e
                for e in self.world.enrolments
                if e.course.programme == code
                and e.course.start >= r["start_date"]
                and e.course is not r["_course"]
                and e.course.start.year == YEAR
            ]
            # half the time a second course of the same programme, else the very row typed twice
            if later and (i + self.world.spec.index) % 2 == 0:
                other = rng.choice(later)
                names = file.meta.get("programme_names", {})
                twin = ledger_row(self.world, file.style, rng, replace(other, person=r["_person"]), names)
                twin["county"] = r["county"]
                twin["programme_name"] = r["programme_name"]
                how = f"second {code} course starting {other.course.start.isoformat()}"
                target_sheet, anchor = self._sheet_of_course(file, other.course) or (sheet, r)
            else:
                twin = dict(r)
                twin.pop("_defects", None)
                how = "the same course entered twice"
                target_sheet, anchor = sheet, r
            position = target_sheet.rows.index(anchor) + 1 + rng.randint(0, 3)
            target_sheet.rows.insert(min(position, len(target_sheet.rows)), twin)
            self._rows.pop("training_records", None)
            self.take(r)
            entity = {"id_number": r["id_number"], "programme_code": code, "year": YEAR}
            self.record(twin, "duplicate_training", "training_records", entity, how)
            return

    @staticmethod
    def _sheet_of_course(file: FilePlan, course):
        for sheet in file.sheets:
            for row in sheet.rows:
                if row.get("_course") is course:
                    return sheet, row
        return None

    def institution_not_on_roster(self, i: int) -> None:
        names = {inst.name for inst in self.world.institutions}
        for _, _, r in self.pick(self._ledger_free(), 1):
            while True:
                fake = (
                    self.world.spec.short_name
                    + self.rng.choice(vocab.INSTITUTION_BRANDS)
                    + self.rng.choice(("技能培训部", "职业培训服务部", "培训中心（未备案）", "劳务培训班"))
                )
                if fake not in names:
                    break
            names.add(fake)
            r["institution"] = fake
            r["_institution"] = None
            self.record(
                r, "institution_not_on_roster", "training_records",
                {"institution": normalise_text(fake), "id_number": r["id_number"]},
                "institution on no roster",
            )  # fmt: skip

    def trade_not_approved(self, i: int) -> None:
        rows = [x for x in self._ledger_free() if x[2]["_institution"] is not None]
        self.rng.shuffle(rows)
        for _, _, r in rows:
            inst, code = r["_institution"], r["_programme"]
            approved = set(inst.approved_trades)
            others = [t for t in vocab.TRADES[code] if t not in approved]
            if not others:
                continue
            trade = self.rng.choice(others)
            r["trade"] = trade
            entity = {"institution_code": inst.code, "trade": trade, "id_number": r["id_number"]}
            self.record(
                r,
                "trade_not_approved",
                "training_records",
                entity,
                f"{inst.name} is not approved for {trade}",
            )
            return

    def institution_qualification_expired(self, i: int) -> None:
        expiring = [inst for inst in self.world.institutions if inst.valid_until.year == YEAR]
        rows = self._ledger_free()
        self.rng.shuffle(rows)
        for inst in expiring:
            for file, _, r in rows:
                code = r["_programme"]
                if code not in inst.trades or r["start_date"] <= inst.valid_until:
                    continue
                if r["trade"] not in inst.trades[code]:
                    r["trade"] = self.rng.choice(inst.trades[code])
                r["institution"] = inst.code if file.style.institution_by_code else inst.name
                r["_institution"] = inst
                entity = {"institution_code": inst.code, "id_number": r["id_number"],
                          "start_date": r["start_date"].isoformat()}  # fmt: skip
                self.record(
                    r, "institution_qualification_expired", "training_records", entity,
                    f"course starts {r['start_date'].isoformat()}, qualification valid until "
                    f"{inst.valid_until.isoformat()}",
                )  # fmt: skip
                return

    # -- aggregates ---------------------------------------------------------------------------

    def inject_aggregates(self) -> None:
        for kind in AGGREGATE_KINDS:
            for i in range(self.counts.get(kind, 0)):
                getattr(self, kind)(i)

    def _report_rows(self, county_rows: bool) -> list[tuple]:
        return [x for x in self.rows("progress_reports") if (x[2]["township"] is None) == county_rows]

    def target_persons_mismatch(self, i: int) -> None:
        rng = self.rng
        taken = {
            rec["entity"]["township"] for rec in self.records if rec["kind"] == "target_persons_mismatch"
        }
        townships = [t.name for t in self.world.townships if t.name not in taken]
        if not townships:
            return
        township = rng.choice(townships)
        in_war_map = (i + self.world.spec.index) % 2 == 0
        if in_war_map:
            rows = [
                r for _, _, r in self.rows("war_map_targets") if r["township"] == township and self.free(r)
            ]
            source = "war_map_targets"
        else:
            rows = [r for _, _, r in self._report_rows(False) if r["township"] == township and self.free(r)]
            source = "progress_reports"
        for r in self.pick(rows, 1):
            before = r["target_persons"]
            delta = rng.choice((-2, -1, 1, 2, 3, 5)) if before >= 2 else rng.choice((1, 2, 3))
            r["target_persons"] = before + delta
            where = f"village {r['village']}" if in_war_map else f"report of {r['report_month']:%Y-%m}"
            self.record(
                r, "target_persons_mismatch", source, {"county_code": self.code, "township": township},
                f"{where}: 培训对象人数 {before} written as {before + delta}",
            )  # fmt: skip

    def _claims(self, i: int, over: bool) -> None:
        kind = "report_overclaims_ledger" if over else "report_underclaims_ledger"
        rows = [x for x in self._report_rows(True) if self.free(x[2])]
        options = []
        for _, _, r in rows:
            for code in PROGRAMME_CODES:
                done = r[f"done_{code.lower()}"]
                if done >= (1 if over else 2):
                    options.append((r, code))
        taken = {
            (rec["entity"]["programme_code"], rec["entity"]["month"])
            for rec in self.records
            if rec["kind"] == kind
        }
        options = [(r, c) for r, c in options if (c, f"{r['report_month']:%Y-%m}") not in taken]
        for r, code in self.pick(options, 1):
            column = f"done_{code.lower()}"
            done = r[column]
            delta = max(1, round(done * self.rng.uniform(0.05, 0.3)))
            if not over:
                delta = min(delta, done - 1)
            r[column] = done + delta if over else done - delta
            month = f"{r['report_month']:%Y-%m}"
            entity = {"county_code": self.code, "programme_code": code, "month": month}
            self.record(
                r, kind, "progress_reports", entity,
                f"已完成 {r[column]} reported, the ledger counts {done}",
            )  # fmt: skip

    def report_overclaims_ledger(self, i: int) -> None:
        self._claims(i, over=True)

    def report_underclaims_ledger(self, i: int) -> None:
        self._claims(i, over=False)

    def task_inflated(self, i: int) -> None:
        rng = self.rng
        taken = {rec["entity"]["programme_code"] for rec in self.records if rec["kind"] == "task_inflated"}
        codes = [c for c in PROGRAMME_CODES if c not in taken and self.world.spec.allocation[c] > 0]
        if not codes:
            return
        code = rng.choice(codes)
        allocation = self.world.spec.allocation[code]
        delta = max(1, round(allocation * rng.uniform(0.1, 0.35)))
        if (i + self.world.spec.index) % 2 == 0:
            rows = [r for _, _, r in self.rows("war_map_targets") if self.free(r)]
            column, source = f"plan_{code.lower()}", "war_map_targets"
        else:
            rows = [r for _, _, r in self._report_rows(True) if self.free(r)]
            column, source = f"task_{code.lower()}", "progress_reports"
        for r in self.pick(rows, 1):
            r[column] += delta
            self.record(
                r, "task_inflated", source, {"county_code": self.code, "programme_code": code, "year": YEAR},
                f"{column} raised by {delta} above the allocation of {allocation}",
            )  # fmt: skip

    def village_count_mismatch(self, i: int) -> None:
        rows = [r for _, _, r in self.rows("village_statistics") if self.free(r)]
        columns = ("poor_households", "poor_population", "labour_force", "persons_with_training_need",
                   "certificate_holders")  # fmt: skip
        for r in self.pick(rows, 1):
            column = columns[(i + self.world.spec.index) % len(columns)]
            before = r[column]
            delta = self.rng.choice((1, 2, 3, 5, 8))
            if before > delta and self.rng.random() < 0.5:
                delta = -delta
            r[column] = before + delta
            self.record(
                r, "village_count_mismatch", "village_statistics",
                {"county_code": self.code, "township": r["township"], "village": r["village"]},
                f"{column} {before} written as {before + delta}",
            )  # fmt: skip
