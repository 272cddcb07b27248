"""Files, sheets and the look of each: the decisions an office makes when it saves a sheet.

A FilePlan is one file to write: its path under the raw folder, its format, its Style (which
header variants, which date form, title rows or not, ...) and its sheets. A SheetPlan holds the
rows of one sheet as dicts keyed by the source's English column names (orchestration.sources),
plus meta keys starting with "_" that never reach a cell. Row numbers are filled in by layout.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from orchestration.generate.reference import programmes
from orchestration.sources import SOURCES, Source

# One entry per file format the field sends. csv comes in two encodings.
FORMATS = ("xlsx", "xls", "ods", "csv-gb18030", "csv-utf8")
# The order files of one source take formats in, so that a handful of files shows every format.
FORMAT_CYCLE = ("xlsx", "xls", "csv-gb18030", "ods", "xlsx", "csv-utf8", "xlsx", "xls")
EXTENSION = {"xlsx": ".xlsx", "xls": ".xls", "ods": ".ods", "csv-gb18030": ".csv", "csv-utf8": ".csv"}

# Date forms of docs/sources.md. Excel date cells and serial numbers only exist in workbooks.
DATE_STYLES_WORKBOOK = (
    ("excel_date", 40), ("serial", 8), ("iso", 14), ("slash", 14), ("dot", 8), ("chinese", 10),
    ("compact", 6),
)  # fmt: skip
DATE_STYLES_TEXT = (("iso", 30), ("slash", 35), ("dot", 10), ("chinese", 15), ("compact", 10))

SEQ = "_seq"  # the 序号 column offices put first; not part of the contract
REMARK = "_remark"  # the 备注 column offices put last; not part of the contract
EXTRA_HEADERS = {SEQ: "序号", REMARK: "备注"}


@dataclass
class Style:
    fmt: str
    headers: dict[str, str]  # column name -> header text written
    columns: list[str]  # columns in sheet order (may include SEQ and REMARK)
    title: bool = True  # a title row above the header
    unit_row: bool = True  # a "填报单位：…  填报日期：…" row
    blank_after_title: bool = False
    two_row_header: bool = False  # war maps: a group cell over the programme columns
    group_label: str = ""  # the group cell's text
    date_style: str = "excel_date"
    date_format: str = "yyyy-mm-dd"  # number format of Excel date cells
    month_style: str = "iso"
    county_form: str = "full"  # full | short name of the county
    city_form: str = "full"
    mess: float = 0.0  # chance that a count or ID cell is written messily (full-width, trailing 人)
    lower_x: bool = False  # IDs ending in X written with a lower-case x
    totals_row: bool = False  # a 合计 row at the end
    subtotals: bool = False  # 合计 rows in the middle (per township / per city)
    blank_rows: float = 0.0  # chance of a blank row after a data row
    institution_by_code: bool = False  # ledgers naming institutions by their code
    trade_separator: str = "、"

    @property
    def is_csv(self) -> bool:
        return self.fmt.startswith("csv")


@dataclass
class SheetPlan:
    name: str
    title: str
    unit_text: str
    rows: list[dict] = field(default_factory=list)
    # filled by layout: the spreadsheet row number of each data row is stored in row["_row"]


@dataclass
class FilePlan:
    source: Source
    path: str  # relative to the raw folder, forward slashes
    style: Style
    sheets: list[SheetPlan] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def fmt(self) -> str:
        return self.style.fmt

    @property
    def is_workbook(self) -> bool:
        return not self.style.is_csv


class FormatCycle:
    """Hands out formats for the files of one source in a county, walking FORMAT_CYCLE."""

    def __init__(self, offset: int, allowed: tuple[str, ...] = FORMATS):
        self.position = offset
        self.allowed = allowed

    def next(self) -> str:
        while True:
            fmt = FORMAT_CYCLE[self.position % len(FORMAT_CYCLE)]
            self.position += 1
            if fmt in self.allowed:
                return fmt


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o[0] for o in options], [o[1] for o in options])[0]


def make_style(rng: random.Random, source_name: str, fmt: str, *, optional: tuple[str, ...] = ()) -> Style:
    """A random but plausible look for one file of a source.

    `optional` columns are left out of some files (offices drop columns they do not use).
    """
    source = SOURCES[source_name]
    headers = {}
    for col in source.columns:
        options = (col.header, *col.variants)
        headers[col.name] = col.header if rng.random() < 0.6 else rng.choice(options)
    progs = programmes()
    for prefix, _suffix in source.programme_groups:
        for code, prog in progs.items():
            # the same variant for a programme's whole group; canonical name most of the time
            headers.setdefault(
                f"_prog_{code}", prog.name_zh if rng.random() < 0.55 else rng.choice(prog.variants)
            )
            headers[f"{prefix}_{code.lower()}"] = headers[f"_prog_{code}"]
    columns = [c.name for c in source.columns if not (c.name in optional and rng.random() < 0.3)]
    if rng.random() < 0.4:
        columns.insert(0, SEQ)
    if rng.random() < 0.2:
        columns.append(REMARK)
    csv = fmt.startswith("csv")
    date_style = weighted(rng, DATE_STYLES_TEXT if csv else DATE_STYLES_WORKBOOK)
    return Style(
        fmt=fmt,
        headers=headers,
        columns=columns,
        title=rng.random() < (0.6 if csv else 0.9),
        unit_row=rng.random() < 0.7,
        blank_after_title=rng.random() < 0.15,
        date_style=date_style,
        date_format=rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"')),
        month_style=rng.choice(("iso", "chinese")),
        county_form="full" if rng.random() < 0.75 else "short",
        city_form="full" if rng.random() < 0.8 else "short",
        mess=rng.choice((0.0, 0.0, 0.02, 0.05)),
        lower_x=rng.random() < 0.3,
        totals_row=rng.random() < 0.3,
        subtotals=rng.random() < 0.4,
        blank_rows=rng.choice((0.0, 0.0, 0.0, 0.01, 0.03)),
        institution_by_code=rng.random() < 0.25,
        trade_separator=rng.choice(("、", "、", ",", "，")),
    )
