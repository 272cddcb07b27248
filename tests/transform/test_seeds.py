"""The dbt reference-data seeds: programmes, name variants, regions and poverty counties."""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt_project" / "seeds"
REGIONS_SCRIPT = REPO / "dbt_project" / "scripts" / "make_regions_seed.py"

# docs/domain.md, "The seven programmes": code -> (Chinese name, minimum duration, unit, per year,
# 2015–2020 total, 2015 task).
DOMAIN_PROGRAMMES = {
    "EMPLOY": ("就业技能培训", 15, "day", 110_000, 669_000, 123_000),
    "TWO_AFTER": ("“两后生”职业技能学历教育培训", 2, "year", 120_000, 720_000, 120_000),
    "BRAND": ("劳务品牌培训", 3, "month", 40_000, 240_000, 40_000),
    "FARMER": ("新型职业农民培训", 7, "day", 15_000, 90_000, 15_000),
    "LEADER": ("农村创业和技能带头人示范培训", 10, "day", 45_000, 270_000, 45_000),
    "UPSKILL": ("岗位技能提升培训", 80, "class_hour", 10_000, 63_000, 11_000),
    "STARTUP": ("创业培训", 10, "day", 10_000, 60_000, 10_000),
}

# The published exit batches, by year (DOMAIN sources); 2018 is assumed.
PUBLISHED_BATCH_SIZES = {2017: 18, 2019: 31, 2020: 8}
JIAYUGUAN = "620200"


def read_seed(name: str, directory: Path = SEEDS) -> list[dict[str, str]]:
    with (directory / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def programmes() -> dict[str, dict[str, str]]:
    return {row["programme_code"]: row for row in read_seed("programmes.csv")}


@pytest.fixture(scope="module")
def regions() -> list[dict[str, str]]:
    return read_seed("regions.csv")


@pytest.fixture(scope="module")
def poverty_counties() -> list[dict[str, str]]:
    return read_seed("poverty_counties.csv")


# --- programmes and variants -------------------------------------------------------------------


def test_programme_totals_add_up(programmes):
    assert sum(int(p["total_2015_2020"]) for p in programmes.values()) == 2_112_000
    assert sum(int(p["task_2015"]) for p in programmes.values()) == 364_000


def test_each_programme_matches_domain_table(programmes):
    assert set(programmes) == set(DOMAIN_PROGRAMMES)
    for code, (name_zh, min_duration, unit, annual, total, task_2015) in DOMAIN_PROGRAMMES.items():
        row = programmes[code]
        assert row["name_zh"] == name_zh, code
        assert Decimal(row["min_duration"]) == min_duration, code
        assert row["duration_unit"] == unit, code
        assert int(row["annual_target"]) == annual, code
        assert int(row["total_2015_2020"]) == total, code
        assert int(row["task_2015"]) == task_2015, code


def test_max_duration_is_one_and_a_half_times_min(programmes):
    for code, row in programmes.items():
        assert Decimal(row["max_duration"]) == Decimal(row["min_duration"]) * Decimal("1.5"), code
        # the day/hour columns carry the same rule in a common unit
        for low, high in (("min_days", "max_days"), ("min_hours", "max_hours")):
            if row[low]:
                assert Decimal(row[high]) == Decimal(row[low]) * Decimal("1.5"), (code, low)


def test_every_variant_maps_to_a_known_programme(programmes):
    variants = read_seed("programme_name_variants.csv")
    assert variants, "no variants"
    unknown = [v for v in variants if v["programme_code"] not in programmes]
    assert unknown == []
    spellings = [v["variant"] for v in variants]
    assert len(spellings) == len(set(spellings)), "a variant points to two programmes"


def test_every_programme_name_is_its_own_variant(programmes):
    variant_to_code = {v["variant"]: v["programme_code"] for v in read_seed("programme_name_variants.csv")}
    for code, row in programmes.items():
        assert variant_to_code.get(row["name_zh"]) == code, row["name_zh"]


# --- regions ----------------------------------------------------------------------------------


def test_region_counts_by_level(regions):
    levels = [r["level"] for r in regions]
    assert levels.count("province") == 1
    assert levels.count("city") == 14
    assert levels.count("county") == 86
    assert len(regions) == 101


def test_region_codes_are_six_digit_gansu_codes_sorted_and_unique(regions):
    codes = [r["region_code"] for r in regions]
    assert all(len(c) == 6 and c.isdigit() and c.startswith("62") for c in codes)
    assert codes == sorted(set(codes))
    assert {r["revision"] for r in regions} == {"201512"}


def test_region_hierarchy_is_consistent(regions):
    by_code = {r["region_code"]: r for r in regions}
    province = by_code["620000"]
    assert province["level"] == "province" and province["name_zh"] == "甘肃省"
    assert province["parent_code"] == "" and province["city_code"] == ""
    for r in regions:
        if r["level"] == "city":
            assert r["parent_code"] == "620000" and r["city_code"] == r["region_code"]
        if r["level"] == "county":
            assert by_code[r["city_code"]]["level"] == "city", r
            assert r["parent_code"] == r["city_code"]
            assert r["region_code"][:4] == r["city_code"][:4]


def test_short_names_are_unique_and_as_offices_write_them(regions):
    short = {r["name_zh"]: r["short_name_zh"] for r in regions}
    assert short["榆中县"] == "榆中"
    assert short["肃南裕固族自治县"] == "肃南"
    assert short["东乡族自治县"] == "东乡"
    assert short["积石山保安族东乡族撒拉族自治县"] == "积石山"
    assert short["临夏市"] == "临夏市" and short["临夏县"] == "临夏县"
    assert short["临夏回族自治州"] == "临夏"
    assert short["环县"] == "环县"  # a one-character stem keeps its suffix
    names = [r["short_name_zh"] for r in regions]
    assert len(names) == len(set(names))


def test_script_reproduces_committed_seeds_byte_for_byte(tmp_path):
    subprocess.run(
        [sys.executable, str(REGIONS_SCRIPT), "--out-dir", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("regions.csv", "poverty_counties.csv"):
        assert (tmp_path / name).read_bytes() == (SEEDS / name).read_bytes(), name


# --- poverty counties -------------------------------------------------------------------------


def test_poverty_county_counts(poverty_counties):
    assert len(poverty_counties) == 75
    codes = [p["county_code"] for p in poverty_counties]
    assert len(set(codes)) == 75
    bases = [p["exit_basis"] for p in poverty_counties]
    assert bases.count("published") == 57
    assert bases.count("assumed") == 18


def test_poverty_exit_years_and_batches(poverty_counties):
    assert {int(p["exit_year"]) for p in poverty_counties} == {2017, 2018, 2019, 2020}
    assumed = [p for p in poverty_counties if p["exit_basis"] == "assumed"]
    assert {p["exit_year"] for p in assumed} == {"2018"}
    published = [p for p in poverty_counties if p["exit_basis"] == "published"]
    sizes = {year: sum(int(p["exit_year"]) == year for p in published) for year in PUBLISHED_BATCH_SIZES}
    assert sizes == PUBLISHED_BATCH_SIZES


def test_poverty_counties_are_counties_in_regions(poverty_counties, regions):
    counties = {r["region_code"]: r for r in regions if r["level"] == "county"}
    for p in poverty_counties:
        county = counties.get(p["county_code"])
        assert county is not None, p
        assert county["name_zh"] == p["county_name_zh"]
        assert county["city_code"] == p["city_code"]
        assert p["city_code"] != JIAYUGUAN


def test_named_exits_resolve_to_the_right_codes(poverty_counties):
    by_code = {p["county_code"]: p for p in poverty_counties}
    assert by_code["622901"]["exit_year"] == "2017"  # 临夏市
    assert by_code["622921"]["exit_year"] == "2020"  # 临夏县
    assert by_code["620402"]["exit_year"] == "2017"  # 白银区, not the city 白银市
    assert by_code["622927"]["exit_year"] == "2019"  # 积石山
