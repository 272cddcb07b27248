"""Backtest of the year-end forecast (marts.mart_attainment_forecast) on the generator's world.

Generating the whole province and running the pipeline takes too long to repeat, so the test
is made on the generator's own model of the year, county by county and programme by programme:
the province's 75 county allocations (orchestration.generate.run.county_specs, province scale),
each county's trainee-times of the year (allocation × 0.9–1.1, as build_county draws them) and
their months (world._month_counts: the province's cumulative pace with ±20 % noise a month).
At every month 1–11 each method projects the year end from the months so far; the error is
against the simulated actual year end. "Earlier year" profiles come from another simulated year
(another seed), as the warehouse would take them from last year's data.

    python -m bench.forecast_backtest            # prints the table written into docs/forecast.md
"""

from __future__ import annotations

import random
import statistics

from orchestration.generate import world
from orchestration.generate.run import county_specs
from orchestration.generate.scales import SCALES
from orchestration.sources import PROGRAMME_CODES

METHODS = ("recent_3_months", "year_to_date_pace", "earlier_year_profile")


def simulate_year(seed: int) -> dict[tuple[str, str], tuple[int, list[int]]]:
    """(county, programme) → (annual target, trainee-times by month) of one simulated year."""
    specs = county_specs(SCALES["province"], 2015)
    series = {}
    for spec in specs:
        rng = random.Random(f"{seed}:{spec.code}:backtest")
        for code in PROGRAMME_CODES:
            target = spec.allocation[code]
            done = max(0, round(target * rng.uniform(0.9, 1.1)))
            series[(spec.code, code)] = (target, world._month_counts(rng, done))
    return series


def province_profile(series: dict) -> dict[str, list[float]]:
    """Per programme, the province's cumulative share of the year done by the end of each month."""
    profile = {}
    for code in PROGRAMME_CODES:
        mine = [by_month for (_, c), (_, by_month) in series.items() if c == code]
        months = [sum(by_month[m] for by_month in mine) for m in range(12)]
        total = sum(months) or 1
        running, shares = 0, []
        for count in months:
            running += count
            shares.append(running / total)
        profile[code] = shares
    return profile


def project(method: str, by_month: list[int], month: int, share: list[float]) -> float:
    """The year end projected at the end of `month` (1–11) from the months so far."""
    ytd = sum(by_month[:month])
    if method == "recent_3_months":
        recent = by_month[max(0, month - 3) : month]
        return ytd + sum(recent) / len(recent) * (12 - month)
    if method == "year_to_date_pace":
        return ytd * 12 / month
    return ytd / share[month - 1] if share[month - 1] else float(ytd)


def backtest(seed: int = 2015, profile_seed: int = 2014) -> dict[str, dict[int, dict[str, float]]]:
    """method → month → mean absolute % error, and the share of will-miss calls that were right."""
    actual = simulate_year(seed)
    profile = province_profile(simulate_year(profile_seed))
    results: dict[str, dict[int, dict[str, float]]] = {}
    for method in METHODS:
        results[method] = {}
        for month in range(1, 12):
            errors, right = [], 0
            for (_, code), (target, by_month) in actual.items():
                year_end = sum(by_month)
                projected = project(method, by_month, month, profile[code])
                if year_end:
                    errors.append(abs(projected - year_end) / year_end)
                right += (projected < target) == (year_end < target)
            results[method][month] = {
                "mape": statistics.fmean(errors),
                "will_miss_right": right / len(actual),
            }
    return results


def main() -> None:
    results = backtest()
    print("| method | " + " | ".join(f"{m} 月" for m in range(1, 12)) + " |")
    print("|---|" + "---:|" * 11)
    for method, months in results.items():
        print(f"| {method} (abs. % error) | " + " | ".join(f"{months[m]['mape']:.1%}" for m in months) + " |")
    for method, months in results.items():
        print(
            f"| {method} (will_miss right) | "
            + " | ".join(f"{months[m]['will_miss_right']:.0%}" for m in months)
            + " |"
        )


if __name__ == "__main__":
    main()
