"""The sizes of world the generator can make."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_POOR_POPULATION = 4_170_000  # 417万建档立卡贫困人口
YEAR = 2015

# Cumulative share of the year's trainee-times started by the end of each month: slow winter,
# the push after the June plan, 88.2 % by the end of October (321,200 of 364,000), done by December.
CUMULATIVE_PACE = (0.02, 0.045, 0.11, 0.20, 0.31, 0.43, 0.54, 0.65, 0.77, 0.882, 0.95, 1.0)


@dataclass(frozen=True)
class Scale:
    name: str
    cities: int | None  # number of cities to draw counties from (None: all)
    counties: int | None  # number of poor counties (None: all 75)
    people_per_county: int | None  # None: the province's 4.17 million spread over the counties
    townships: tuple[int, int]  # townships per county (min, max)
    villages: tuple[int, int]  # villages per township (min, max)
    institutions: tuple[int, int]  # institutions on a county's roster (min, max)
    # trainee-times per person relative to the province's 2015 rate (364,000 / 4.17 M): the
    # sample trains more people so that each programme has a few classes to look at
    training_boost: float
    defects_per_county: int  # injections of each kind per county (the sample adds a few more)
    allocation_exact: bool  # allocations add up to the 2015 task exactly (province only)


SCALES = {
    "tiny": Scale("tiny", 1, 1, 420, (2, 2), (2, 3), (6, 6), 1.6, 1, False),
    "sample": Scale("sample", 2, 3, 1100, (3, 3), (3, 4), (6, 8), 1.5, 2, False),
    "county": Scale("county", 1, 1, 55_600, (14, 18), (10, 16), (16, 22), 1.0, 4, False),
    "province": Scale("province", None, None, None, (12, 20), (8, 16), (14, 24), 1.0, 2, True),
}
