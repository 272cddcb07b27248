"""Find the header of a sheet and map its Chinese headers to the contract's column names.

Real sheets put a title and a "填报单位/填报日期" row above the header, write headers with
full-width brackets, stray spaces, line breaks, a unit in brackets ("总户数（户）") or a
required-field star, and group programme columns under a two-row merged header
("就业技能培训" over "任务数 | 已完成"). The header row is the row (or pair of rows) among the
first ``HEADER_SCAN_ROWS`` non-empty rows that matches the most known headers of the source.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from orchestration.lib.ingest.normalise import half_width
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.sources import NOTES, PROGRAMME_CODES, PROGRAMME_NAMES, SOURCES, Column, Source

HEADER_SCAN_ROWS = 15
# A header must match at least this many distinct columns of the source.
MIN_HEADER_MATCHES = 2
# Longer cell text is data or a title, never a header.
MAX_HEADER_LENGTH = 40
# Memos of cell text → column name hold data cells too: emptied when this big.
MEMO_SIZE = 100_000

PROGRAMME_VARIANTS_SEED = DBT_PROJECT_DIR / "seeds" / "programme_name_variants.csv"

# Sub-headers of the two-row programme groups, and how offices also write them.
SUFFIX_VARIANTS = {
    "任务数": ("任务数", "任务", "计划数", "计划任务数", "目标任务数", "年度任务数"),
    "已完成": ("已完成", "完成数", "已完成数", "完成", "累计完成", "累计完成数"),
}

# Headers that carry no data worth loading and are not reported: row numbering.
IGNORED_HEADERS = frozenset({"序号", "编号序号", "no", "no.", "行号"})

# A trailing bracketed unit that does not change the meaning ("总户数（户）").
_UNIT_SUFFIX = re.compile(r"\((人|户|人次|个|元|天|学时|课时|次|名|家|岁|年)\)$")
# Any trailing bracketed note ("身份证号码（18位）"), unless it scales the number (万元, 千人, %).
_NOTE_SUFFIX = re.compile(r"\(([^()]*)\)$")
_SCALING = re.compile(r"[万千百亿%‰]")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』")


@lru_cache(maxsize=1 << 16)
def normalise_header(value: object) -> str:
    """Header text reduced to what matters: NFKC (full-width → half-width), no spaces or quotes."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = _SPACES.sub("", text).translate(_QUOTES)
    return text.strip("*★※:：").lower()


@cache
def programme_variants() -> tuple[tuple[str, str], ...]:
    """(variant, programme code) pairs: canonical names plus the seed of variants."""
    pairs = [(name, code) for code, name in PROGRAMME_NAMES.items()]
    with PROGRAMME_VARIANTS_SEED.open(encoding="utf-8", newline="") as f:
        pairs += [(row["variant"], row["programme_code"]) for row in csv.DictReader(f)]
    unknown = {code for _, code in pairs} - set(PROGRAMME_CODES)
    if unknown:
        raise ValueError(f"{PROGRAMME_VARIANTS_SEED} names unknown programme codes {sorted(unknown)}")
    return tuple(pairs)


@dataclass(frozen=True)
class HeaderIndex:
    """Normalised header text → column name, for one source."""

    source: Source
    by_header: dict[str, str]
    suffixes: tuple[str, ...]  # normalised programme-group suffix variants (empty if none)
    memo: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False, repr=False)
    singles: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    @cache
    def of(cls, source_name: str) -> HeaderIndex:
        source = SOURCES[source_name]
        by_header: dict[str, str] = {}
        for column in (*source.columns, NOTES):
            for text in (column.header, *column.variants):
                by_header.setdefault(normalise_header(text), column.name)
        suffixes: list[str] = []
        for prefix, suffix in source.programme_groups:
            suffix_forms = [normalise_header(s) for s in SUFFIX_VARIANTS[suffix]] if suffix else [""]
            suffixes += [s for s in suffix_forms if s]
            for variant, code in programme_variants():
                for form in suffix_forms:
                    key = normalise_header(variant) + (f"/{form}" if form else "")
                    by_header.setdefault(key, f"{prefix}_{code.lower()}")
        return cls(source, by_header, tuple(sorted(set(suffixes), key=len, reverse=True)))

    def match(self, text: str) -> str | None:
        """Column name for one normalised header text, trying the forms offices write."""
        if not text:
            return None
        for candidate in _candidates(text):
            name = self.by_header.get(candidate)
            if name:
                return name
        # "就业技能培训任务数" / "就业技能培训-已完成": a programme and a suffix in one cell
        for suffix in self.suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                group = text[: -len(suffix)].rstrip("-_/()")
                name = self.by_header.get(f"{group}/{suffix}")
                if name:
                    return name
        return None

    def match_pair(self, group: str, sub: str) -> str | None:
        """Column name for a two-row header: group cell over sub cell (memoised: sheets repeat)."""
        key = (group, sub)
        if key not in self.memo:
            if len(self.memo) >= MEMO_SIZE:  # data cells are looked up too: keep the memo bounded
                self.memo.clear()
            too_long = len(group) + len(sub) > MAX_HEADER_LENGTH  # a data or title cell
            self.memo[key] = None if too_long else self._match_pair(group, sub)
        return self.memo[key]

    def matched_single(self, texts: Sequence[str]) -> int:
        """How many columns a row of cell texts matches as a one-row header (as
        ``_layout_from_labels`` counts them), from a memo of cell text → column name."""
        names = set()
        memo = self.singles
        for text in texts:
            if text:
                name = memo.get(text, "")
                if name == "":
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    name = memo[text] = self.match_pair(normalise_header(text), "")
                if name:
                    names.add(name)
        return len(names)

    def _match_pair(self, group: str, sub: str) -> str | None:
        if not group:
            return self.match(sub)
        if not sub:
            return self.match(group)
        for text in (f"{group}/{sub}", f"{sub}/{group}"):
            name = self.by_header.get(text) or self.match(text)
            if name:
                return name
        # a decorative group ("家庭住址" over 市州 | 县区) or a unit row under the header ("(人次)")
        return self.match(sub) or (self.match(group) if _UNIT_SUFFIX.fullmatch(sub) else None)


def _candidates(text: str):
    yield text
    note = _NOTE_SUFFIX.search(text)
    stripped = text[: note.start()] if note and not _SCALING.search(note.group(1)) else text
    yield stripped
    if stripped.endswith("名称") and len(stripped) > 2:  # "乡镇名称", "村名称"
        yield stripped[:-2]


def contract_fingerprint(source: Source) -> str:
    """Changes whenever the columns, headers or programme variants of a source change.

    Stored with each loaded file so that a new header variant re-parses the files it affects.
    """
    text = repr(source.all_columns) + repr(SUFFIX_VARIANTS)
    if source.programme_groups:
        text += repr(programme_variants())
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass
class SheetLayout:
    """Where the header is and what each physical column (0-based, relative) holds."""

    header_rows: tuple[int, ...]  # 0-based sheet row indexes of the header (1 or 2 rows)
    columns: dict[int, str]  # physical column → column name (first occurrence)
    labels: dict[int, str]  # physical column → header text as shown (for messages)
    matched: int  # number of distinct columns matched
    title: str  # text of the rows above the header, ' | ' between rows
    unknown: list[int] = field(default_factory=list)  # columns whose header matched nothing
    duplicates: dict[int, str] = field(default_factory=dict)  # column → the column name it repeats
    unnamed: list[int] = field(default_factory=list)  # columns with no header text

    @property
    def last_header_row(self) -> int:
        return self.header_rows[-1]

    def missing_required(self, source: Source) -> list[Column]:
        present = set(self.columns.values())
        return [c for c in source.all_columns if c.required and c.name not in present]


def cell_text(value: object) -> str:
    """A header or title cell as display text."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _labels_single(row: Sequence[object]) -> list[tuple[str, str]]:
    return [(cell_text(v), "") for v in row]


def _labels_pair(
    top: Sequence[object], bottom: Sequence[object], top_spans: dict[int, int] | None
) -> list[tuple[str, str]]:
    """(group, sub) per column of a two-row header.

    A group cell merged across columns holds its text in its first column only: with the
    merge ranges (xlsx/xls) the text is spread over the merge; without them (ods/csv) a
    group runs on while the row below has sub-headers and the row above is empty.
    """
    width = max(len(top), len(bottom))
    top_text = [cell_text(top[j]) if j < len(top) else "" for j in range(width)]
    bottom_text = [cell_text(bottom[j]) if j < len(bottom) else "" for j in range(width)]
    group = [""] * width
    if top_spans is not None:
        for j in range(width):
            if top_text[j]:
                for k in range(j, min(width, top_spans.get(j, j) + 1)):
                    group[k] = top_text[j]
    else:
        current = ""
        for j in range(width):
            if top_text[j]:
                current = top_text[j] if bottom_text[j] else ""
                group[j] = top_text[j]
            elif bottom_text[j] and current:
                group[j] = current
            else:
                current = ""
    return list(zip(group, bottom_text, strict=True))


def _labelled(top: list[str], bottom: list[str], spans: dict[int, int] | None) -> int:
    """How many columns of a two-row header get a label (see ``_labels_pair``): those with text
    in either row, and with merge ranges those a group cell spreads over."""
    width = max(len(top), len(bottom))
    top = top + [""] * (width - len(top))
    bottom = bottom + [""] * (width - len(bottom))
    labelled = {j for j in range(width) if top[j] or bottom[j]}
    for j, last in (spans or {}).items():
        if j < width and top[j]:
            labelled.update(range(j, min(width, last + 1)))
    return len(labelled)


def _layout_from_labels(
    index: HeaderIndex, labels: list[tuple[str, str]], header_rows: tuple[int, ...]
) -> SheetLayout:
    columns: dict[int, str] = {}
    shown: dict[int, str] = {}
    unknown, unnamed = [], []
    duplicates: dict[int, str] = {}
    seen: set[str] = set()
    for j, (group, sub) in enumerate(labels):
        label = f"{group}/{sub}" if group and sub and group != sub else (group or sub)
        shown[j] = label
        if not label:
            unnamed.append(j)
            continue
        name = index.match_pair(normalise_header(group), normalise_header(sub) if sub != group else "")
        if name is None:
            if normalise_header(label) not in IGNORED_HEADERS:
                unknown.append(j)
        elif name in seen:
            duplicates[j] = name
        else:
            seen.add(name)
            columns[j] = name
    return SheetLayout(header_rows, columns, shown, len(seen), "", unknown, duplicates, unnamed)


def find_header(
    index: HeaderIndex,
    rows: Sequence[tuple[int, Sequence[object]]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]] | None = None,
) -> SheetLayout | None:
    """The best header among ``rows`` ((row index, cells) of the first non-empty rows), or None.

    ``merges`` are the sheet's merged ranges ((row, col), (row, col)), columns relative to the
    first column of ``rows``; None when the format does not report them.
    """
    if not rows:
        return None
    texts = [[v.strip() if type(v) is str else cell_text(v) for v in cells] for _, cells in rows]
    singles = [index.matched_single(row) for row in texts]
    first_best = max(range(len(rows)), key=singles.__getitem__)  # the first of the best
    best: SheetLayout | None = None  # a pair better than every single row
    best_matched = singles[first_best]
    for i, (row_index, cells) in enumerate(rows[:-1]):
        if rows[i + 1][0] != row_index + 1:
            continue
        spans = None
        if merges is not None:
            spans = {c0: c1 for (r0, c0), (_, c1) in merges if r0 == row_index and c1 > c0}
        # a pair must add columns that neither row has alone (a title over a header adds none);
        # it matches at most one column per labelled cell: most pairs need no matching at all
        needed = max(singles[i], singles[i + 1], best_matched)
        if _labelled(texts[i], texts[i + 1], spans) <= needed:
            continue
        pair = _layout_from_labels(
            index, _labels_pair(cells, rows[i + 1][1], spans), (row_index, row_index + 1)
        )
        if pair.matched > needed:
            best, best_matched = pair, pair.matched
    if best is None:
        row_index, cells = rows[first_best]
        best = _layout_from_labels(index, _labels_single(cells), (row_index,))
    if best.matched < MIN_HEADER_MATCHES:
        return None
    header_start = best.header_rows[0]
    title_lines = []
    for row_index, cells in rows:
        if row_index >= header_start:
            break
        line = half_width(" ".join(t for t in (cell_text(v) for v in cells) if t))
        if line:
            title_lines.append(line)
    best.title = " | ".join(title_lines)
    return best


def best_other_source(
    rows: Sequence[tuple[int, Sequence[object]]], exclude: str, matched: int = 0
) -> Source | None:
    """The source whose headers these rows match far better than ``matched`` columns of their own
    folder's source: a household sheet dropped into village_sheets/ shares only the location
    columns with the village sheet and must not load there."""
    best, best_score = None, max(2 * matched, matched + 3, MIN_HEADER_MATCHES + 1)
    # A layout matches at most one column per labelled cell (without merges a label needs a
    # non-empty cell) and at most its source's columns: most sheets match their own source far
    # too well for another to win, and need not be matched against the other six at all.
    labelled = len({j for _, cells in rows for j, v in enumerate(cells) if cell_text(v)})
    for name, source in SOURCES.items():
        if name == exclude or min(labelled, len(source.all_columns)) < best_score:
            continue
        layout = find_header(HeaderIndex.of(name), rows)
        if layout is not None and layout.matched >= best_score:
            best, best_score = source, layout.matched
    return best
