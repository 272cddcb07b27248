"""Reference data the generator reads: programmes, their name variants, regions, poor counties.

Everything comes from the dbt seeds, so the generated world and the warehouse agree on codes
and names.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestration.sources import PROGRAMME_CODES

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


@dataclass(frozen=True)
class Programme:
    code: str
    name_zh: str
    unit: str  # day | month | year | class_hour
    min_days: int | None  # None for programmes measured in class hours
    max_days: int | None  # floor(1.5 × minimum): the longest course still allowed
    min_hours: int | None
    max_hours: int | None
    task_2015: int
    variants: tuple[str, ...]  # every way offices write the name, canonical first

    @property
    def measured_in_hours(self) -> bool:
        return self.unit == "class_hour"


@dataclass(frozen=True)
class Region:
    code: str
    name_zh: str
    short_name_zh: str
    level: str
    city_code: str


def _read(name: str) -> list[dict[str, str]]:
    path = SEEDS_DIR / name
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _int_or_none(text: str) -> int | None:
    return int(math.floor(float(text))) if text.strip() else None


@cache
def programmes() -> dict[str, Programme]:
    variants: dict[str, list[str]] = {code: [] for code in PROGRAMME_CODES}
    for row in _read("programme_name_variants.csv"):
        variants[row["programme_code"]].append(row["variant"])
    result = {}
    for row in _read("programmes.csv"):
        code = row["programme_code"]
        names = [row["name_zh"]] + [v for v in variants[code] if v != row["name_zh"]]
        result[code] = Programme(
            code=code,
            name_zh=row["name_zh"],
            unit=row["duration_unit"],
            min_days=_int_or_none(row["min_days"]),
            max_days=_int_or_none(row["max_days"]),
            min_hours=_int_or_none(row["min_hours"]),
            max_hours=_int_or_none(row["max_hours"]),
            task_2015=int(row["task_2015"]),
            variants=tuple(names),
        )
    return {code: result[code] for code in PROGRAMME_CODES}


@cache
def regions() -> dict[str, Region]:
    return {
        row["region_code"]: Region(
            row["region_code"], row["name_zh"], row["short_name_zh"], row["level"], row["city_code"]
        )
        for row in _read("regions.csv")
    }


@cache
def poor_county_codes() -> tuple[str, ...]:
    """The 75 poor counties, in code order."""
    return tuple(sorted(row["county_code"] for row in _read("poverty_counties.csv")))


@cache
def other_county_codes() -> tuple[str, ...]:
    """County-level codes of Gansu that carry no poverty work: birthplaces of people who moved in."""
    poor = set(poor_county_codes())
    return tuple(sorted(r.code for r in regions().values() if r.level == "county" and r.code not in poor))
