"""The SQL that turns a chunk of sheet text into raw rows and quarantine entries.

Python hands DuckDB each chunk as columns of text (``chunk``: the lineage columns plus one per
mapped header, named by the contract's column names); DuckDB does the per-cell work
vectorised: full-width to half-width, trim, dates, months, counts, amounts, formula errors,
blank / 合计 / repeated-header rows, rows without any key field.

Most text cells need none of that, and regular expressions over millions of cells cost more
than reading them. So Python first checks each column of the chunk once, on the joined text
(C speed: ``chunk_features``), for what could be there at all — wide characters, padding
spaces, a ``#`` of a formula error, a 计 of a 合计 row, an ``E+`` of a rounded number, the
header's own text — and the SQL for that chunk only carries the expressions those features
call for. Dates, months, counts and amounts are always parsed.

Stages: ``cleaned`` (c__ = normalised text), ``parsed`` (p__ = intermediate), then the staged
table: v__ = value for raw, e__ = why the value is NULL, n__ = a note on a kept value, and
the row's ``_status``: loaded / quarantined / blank / total / header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestration.lib.ingest.reasons import CELL_REASONS, ROW_REASONS, cell_reason
from orchestration.sources import Column, Source

# Full-width ASCII (U+FF01–FF5E) to half-width, ideographic and other wide spaces to a space;
# zero-width characters (no counterpart in the second string) are deleted.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + "     "
_HALF_WIDTH = str.maketrans(_FULL[: len(_HALF)], _HALF, _FULL[len(_HALF) :])


def half_width(text: str) -> str:
    """The same full-width → half-width mapping as the SQL, with runs of spaces made one."""
    return " ".join(text.translate(_HALF_WIDTH).split())


FORMULA_ERROR = (
    r"#(NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!|FIELD!|BLOCKED!)|Err:\d{3}"
)
DATE_MIN, DATE_MAX = "1900-01-01", "2099-12-31"
COUNT_UNITS = "人次户个天学课时名家年度"  # trailing unit characters of a count ("12人", "3学时", "2015年")
TOTAL_ROW = r".{0,10}(合计|总计|小计|共计)[:]?"
ROUNDED_NUMBER = r"\d(\.\d+)?E\+\d+"


def lit(text: str) -> str:
    """A SQL string literal (DuckDB strings have no backslash escapes)."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Byte patterns whose presence in a column calls for a feature: the UTF-8 lead bytes of
# full-width ASCII (U+FF01–FF5E), wide and zero-width spaces; padding; a formula error's # …
# Each comes with a gate byte looked for first (memchr): most columns have none of them, and a
# two-byte pattern that starts with a common byte (" \x1f") is slow to look for.
MARKERS = {
    "wide": (
        (b"\xef", (b"\xef\xbc", b"\xef\xbd", b"\xef\xbb\xbf")),
        (b"\xe3", (b"\xe3\x80\x80",)),
        (b"\xc2", (b"\xc2\xa0",)),
        (b"\xe2", (b"\xe2\x80",)),
    ),
    "space": ((b" ", (b" \x1f", b"\x1f ")), (b"\t", (b"\t",)), (b"\n", (b"\n",)), (b"\r", (b"\r",))),
    "hash": ((b"#", (b"#",)), (b"Err:", (b"Err:",))),
    "total": (("计".encode(), ("计".encode(),)),),
    "eplus": ((b"+", (b"E+", b"e+")),),
}
NUMERIC_KINDS = frozenset({"count", "amount"})
DATE_KINDS = frozenset({"date", "month"})


# The characters translate() maps, as UTF-8: what a column flagged "wide" really holds of them.
_WIDE_CHARS = re.compile("|".join(re.escape(c) for c in _FULL).encode())
# Literal characters of the date and month formats (after cleaning): a format whose literals a
# column lacks cannot match any of its cells, so the SQL leaves it out (each failed try costs).
_FORMAT_LITERALS = "-/.年月日号份T:"


def chunk_features(
    columns: list[tuple[str, list | tuple, tuple[str, ...], str]],
) -> dict[str, frozenset[str]]:
    """What each column of a chunk could need: see the module docstring.

    ``columns``: (name, cell texts, normalised headers of the chunk's sheets, kind). Patterns
    are looked for in each column's UTF-8 bytes (C-speed memchr / memmem; regular expressions,
    or even max(), over CJK text are far slower). A column with wide characters also gets
    ``wide:<c>`` for each one present (translate() costs in proportion to its mapping), a date
    or month column ``lit:<c>`` for each format literal present.
    """
    datas = ["\x1f".join(texts).encode() for _, texts, _, _ in columns]
    found: dict[str, set[str]] = {}
    for (name, _, headers, kind), data in zip(columns, datas, strict=True):
        features = found[name] = {
            feature
            for feature, gates in MARKERS.items()
            if any(gate in data and any(p in data for p in patterns) for gate, patterns in gates)
        }
        if data[:1].isspace() or data[-1:].isspace():
            features.add("space")
        if _may_repeat_header(data, headers):
            features.add("header")
        if kind in NUMERIC_KINDS or kind in DATE_KINDS:
            rest = data.translate(None, b"0123456789\x1f")
            if not rest and data and kind in NUMERIC_KINDS and max(map(len, data.split(b"\x1f"))) <= 30:
                features.add("digits")  # every cell empty or plain digits (that fit a hugeint)
            elif rest and kind in DATE_KINDS and not rest.strip(b"-") and _all_iso_dates(data):
                features.add("iso")
        if "wide" in features:
            wide = {match.decode() for match in set(_WIDE_CHARS.findall(data))}
            features.discard("wide")
            features |= {f"wide:{c}" for c in wide}
            if wide:  # a full-width ＃ or Ｅ＋ only shows after translate(): check everything
                features |= {"wide", "hash", "eplus", "header"} if any(headers) else {"wide", "hash", "eplus"}
        if kind in DATE_KINDS and "iso" not in features:
            text = data.decode().translate(_HALF_WIDTH) if "wide" in features else data.decode()
            features |= {"lits"} | {f"lit:{c}" for c in _FORMAT_LITERALS if c in text}
    return {name: frozenset(features) for name, features in found.items()}


def _may_repeat_header(data: bytes, headers: tuple[str, ...]) -> bool:
    """Could a cell equal one of the (normalised) headers once its spaces are removed and it is
    lower-cased, as the SQL compares? A header whose first character is a CJK ideograph cannot
    match where that character is absent: most columns are ruled out by one memchr/memmem."""
    bare = None
    for header in headers:
        if not header or ("\u4e00" <= header[0] <= "\u9fff" and header[0].encode() not in data):
            continue
        if bare is None:
            bare = data.decode().replace(" ", "").lower()
        if header in bare:
            return True
    return False


def _all_iso_dates(data: bytes) -> bool:
    """Every cell empty or shaped YYYY-MM-DD (digits and dashes are already known)."""
    return all(
        not cell or (len(cell) == 10 and cell[4:5] == b"-" and cell[7:8] == b"-")
        for cell in data.split(b"\x1f")
    )


# Columns every chunk has and every stage carries along.
PASSED = ("_seq", "_row", "_file", "_sheet", "_title", "_sheetno")


@dataclass(frozen=True)
class ChunkSql:
    stage: str  # create the staged table from chunk
    rows: str  # the loaded rows, in raw-table column order
    quarantine: str  # (sheet, row_number, column_name, raw_value, reason_code, reason, source_file)
    cell_quarantine: str  # the same when no row is quarantined whole (reads fewer of chunk's columns)
    # _file, _sheet, _status, count(*), rows with a cell entry, cell entries
    counts: str
    unnamed_counts: str | None  # _file, _sheet, non-empty cells per column without a header


@dataclass(eq=False)
class SheetSql:
    """Builds the SQL of each chunk of sheets with the same columns, given what its columns may
    contain. A chunk may hold rows of several sheets of several files: ``_seq`` numbers its rows,
    ``_row``, ``_file``, ``_sheet``, ``_title`` and ``_sheetno`` are each row's spreadsheet row,
    file (source_file), sheet, sheet title and sheet number in the table ``sheets``, which holds
    per sheet ``l__<name>`` (the header as shown), ``h__<name>`` (normalised, to spot a repeated
    header row), ``f__<name>`` (its first character if a CJK ideograph) and ``o__<name>`` (its
    position in the sheet) of each column.

    ``names``: the contract columns the sheets have, in contract order; ``first_column``: the
    chunk has ``_first``, the unmapped first column where 合计 often sits; ``duplicates``: for
    each extra column ``_dup_<k>``, the name it repeats; ``unnamed``: how many columns
    ``_unnamed_<k>`` have no header.
    """

    source: Source
    names: tuple[str, ...]
    first_column: bool = False
    duplicates: tuple[str, ...] = ()
    unnamed: int = 0

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in self.source.all_columns}
        self.present = [by_name[name] for name in self.names]
        self._cache: dict[tuple, ChunkSql] = {}

    def for_chunk(self, features: dict[str, frozenset[str]], id_flags: frozenset[str]) -> ChunkSql:
        """``features``: chunk column → features_of(...); ``id_flags``: ID columns with a
        ``num__<name>`` column (some cell was typed as a number)."""
        key = (tuple(sorted(features.items())), id_flags)
        if key not in self._cache:
            self._cache[key] = self._build(features, id_flags)
        return self._cache[key]

    def _build(self, features: dict[str, frozenset[str]], id_flags: frozenset[str]) -> ChunkSql:
        none: frozenset[str] = frozenset()
        cleaned = list(PASSED) + [ident(f"num__{name}") for name in sorted(id_flags)]
        for col in self.present:
            cleaned.append(f"{_clean(ident(col.name), features.get(col.name, none))} as c__{col.name}")
        if self.first_column:
            cleaned.append(f"{_clean('_first', features.get('_first', none))} as c___first")
        extra = [f"_dup_{k}" for k in range(len(self.duplicates))] + [
            f"_unnamed_{k}" for k in range(self.unnamed)
        ]
        for name in extra:  # features when the chunk's were looked for, else every cleaning
            cleaned.append(f"{_clean(name, features.get(name, frozenset({'wide', 'space'})))} as c__{name}")

        inputs, parsed, staged, cell_parts, entry_columns = [], [], list(PASSED), [], []
        for col in self.present:
            feats = features.get(col.name, none)
            column_inputs, intermediates, value, error, note = _column_exprs(col, feats, col.name in id_flags)
            inputs += column_inputs
            parsed += intermediates
            staged.append(f"{value} as v__{col.name}")
            for prefix, expr in (("e", error), ("n", note)):
                if expr:
                    staged.append(f"{expr} as {prefix}__{col.name}")
                    entry_columns.append(f"{prefix}__{col.name}")
                    entries = (
                        f"select _seq, {lit(col.name)} as column_name, {prefix}__{col.name} as reason_code "
                        f"from staged where _status = 'loaded' and {prefix}__{col.name} is not null"
                    )
                    cell_parts.append((col.name, entries))
        for k, name in enumerate(self.duplicates):
            staged += [f"c___dup_{k}", f"c__{name} as k___dup_{k}"]
        staged += [f"c___unnamed_{k}" for k in range(self.unnamed)]
        status, by_sheet = self._status(features)
        staged.append(status + " as _status")

        # the sheet's own header texts only when a repeated header row may be in the chunk
        sheets = " join sheets using (_sheetno)" if by_sheet else ""
        stage = (
            "create or replace temp table staged as "
            f"with widened as ({self._widened(features)}), "
            f"cleaned as (select {', '.join(cleaned)} from widened), "
            f"prepared as (select *{''.join(', ' + p for p in inputs)} from cleaned), "
            f"parsed as (select *{''.join(', ' + p for p in parsed)} from prepared) "
            f"select {', '.join(staged)} from parsed{sheets}"
        )
        out = [
            f"v__{name} as {ident(name)}" if name in self.names else f"null::varchar as {ident(name)}"
            for name in self.source.column_names
        ]
        rows = (
            f"select {', '.join(out)}, _sheet as sheet, _row as row_number, _title as sheet_title, "
            "_file as source_file from staged where _status = 'loaded'"
        )
        quarantine, cell_quarantine = self._quarantine(cell_parts, True), self._quarantine(cell_parts, False)
        # per status: rows, and rows with some cell entry (to skip writing an empty quarantine)
        flagged = [f"{column} is not null" for column in entry_columns]
        flagged += [
            f"(c___dup_{k} is not null and c___dup_{k} is distinct from k___dup_{k})"
            for k in range(len(self.duplicates))
        ]
        any_entry = " or ".join(flagged) or "false"
        entries = " + ".join(f"({x})::integer" for x in flagged) or "0"
        counts = (
            f"select _file, _sheet, _status, count(*), count_if({any_entry}), sum({entries})::bigint "
            "from staged group by all"
        )
        return ChunkSql(stage, rows, quarantine, cell_quarantine, counts, self._unnamed_counts())

    def _widened(self, features: dict[str, frozenset[str]]) -> str:
        """The chunk with full-width characters made half-width where a column has them."""
        replace = [
            f"{widened} as {ident(name)}"
            for name, feats in sorted(features.items())
            if (widened := _widen(ident(name), feats)) is not None
        ]
        return f"select * replace ({', '.join(replace)}) from chunk" if replace else "select * from chunk"

    def _status(self, features: dict[str, frozenset[str]]) -> tuple[str, bool]:
        """The row's status, and whether it needs the sheet's header texts (table ``sheets``)."""
        c = [f"c__{col.name}" for col in self.present]
        blank = " and ".join(f"{x} is null" for x in c)
        totals = [
            f"coalesce(contains({x}, '计') "
            f"and regexp_full_match(replace({x}, ' ', ''), {lit(TOTAL_ROW)}), false)"
            # every kind: a 合计 may sit in a numeric first column (年度 of task allocations)
            for name, x in [(col.name, f"c__{col.name}") for col in self.present]
            + ([("_first", "c___first")] if self.first_column else [])
            if "total" in features.get(name, ())
        ]
        # f__: the header's first character when it is a CJK ideograph (no other character
        # lower-cases to one): a cell without it cannot be the header, and lower() costs
        repeats = [
            f"case when f__{col.name} is null or contains(c__{col.name}, f__{col.name}) "
            f"then coalesce(cast(lower(replace(c__{col.name}, ' ', '')) = h__{col.name} as integer), 0) "
            "else 0 end"
            for col in self.present
            if "header" in features.get(col.name, ())
        ]
        required = [f"c__{col.name} is null" for col in self.present if col.required]
        status = f"case when {blank} then 'blank' "
        if totals:
            status += f"when {' or '.join(totals)} then 'total' "
        if len(repeats) >= 2:
            status += f"when ({' + '.join(repeats)}) >= 2 then 'header' "
        if required:
            status += f"when {' and '.join(required)} then 'quarantined' "
        return status + "else 'loaded' end", len(repeats) >= 2

    def _quarantine(self, cell_parts: list[tuple[str, str]], whole_rows: bool) -> str:
        """Cell entries (raw_value = the cell as read, from chunk), duplicate-column conflicts
        and, with ``whole_rows``, whole rows without key fields (raw_value = the row's cells as
        header=value). ``cell_parts``: (column name, query of its entries)."""
        with_entries = {name for name, _ in cell_parts}
        original = _original("q.column_name", [c for c in self.present if c.name in with_entries])
        parts = (
            [
                f"select q._seq, q.column_name, {original} as raw_value, q.reason_code "
                f"from ({' union all '.join(part for _, part in cell_parts)}) as q join chunk using (_seq)"
            ]
            if cell_parts
            else []
        )
        for k, name in enumerate(self.duplicates):
            parts.append(
                f"select _seq, {lit(name)}, chunk._dup_{k}, 'duplicate_column_conflict' from staged "
                f"join chunk using (_seq) where _status = 'loaded' and c___dup_{k} is not null "
                f"and c___dup_{k} is distinct from k___dup_{k}"
            )
        # "header=value" of each cell with text, in the sheet's own column order (o__)
        cells = ", ".join(
            f"struct_pack(o := sheets.o__{col.name}, t := case when nullif(trim(chunk.{ident(col.name)}), "
            f"'') is not null then sheets.l__{col.name} || '=' || chunk.{ident(col.name)} end)"
            for col in self.present
        )
        whole_row = (
            f"array_to_string(list_transform(list_sort(list_filter([{cells}], c -> c.t is not null)), "
            "c -> c.t), ' | ')"
        )
        if whole_rows:
            parts.append(
                f"select _seq, null, {whole_row}, 'row_without_key_fields' from staged "
                "join chunk using (_seq) join sheets on sheets._sheetno = chunk._sheetno "
                "where _status = 'quarantined'"
            )
        union = " union all ".join(parts) or "select null::integer, null, null, null where false"
        return (
            "select s._sheet as sheet, s._row as row_number, q.column_name, q.raw_value, "
            f"q.reason_code, {_reason_case('q.reason_code', self.source)} as reason, s._file as source_file "
            f"from ({union}) as q(_seq, column_name, raw_value, reason_code) join staged as s using (_seq) "
            "order by q._seq, q.column_name"
        )

    def _unnamed_counts(self) -> str | None:
        if not self.unnamed:
            return None
        counts = ", ".join(f"count(c___unnamed_{k})" for k in range(self.unnamed))
        return f"select _file, _sheet, {counts} from staged group by _file, _sheet"


def _original(column_name: str, present: list[Column]) -> str:
    whens = " ".join(f"when {lit(c.name)} then chunk.{ident(c.name)}" for c in present)
    return f"case {column_name} {whens} end"


def _widen(expr: str, features: frozenset[str]) -> str | None:
    """Full-width to half-width, or None when the column has no such character. Only the
    characters present, and only on the cells that hold one: translate() looks its mapping up
    anew for every cell (~0.3 µs)."""
    if "wide" not in features:
        return None
    present = sorted(f[5:] for f in features if f.startswith("wide:"))
    if not present:  # a column not looked at: every character
        return f"translate({expr}, {lit(_FULL)}, {lit(_HALF)})"
    mapped = [c for c in present if _FULL.index(c) < len(_HALF)]
    deleted = [c for c in present if _FULL.index(c) >= len(_HALF)]
    half = "".join(_HALF[_FULL.index(c)] for c in mapped)
    translated = f"translate({expr}, {lit(''.join(mapped + deleted))}, {lit(half)})"
    holds = f"regexp_matches({expr}, {lit('[' + ''.join(present) + ']')})"
    return f"case when {holds} then {translated} else {expr} end"


def _clean(expr: str, features: frozenset[str]) -> str:
    """``expr`` (already widened) trimmed, '' as NULL. trim() copies every cell; the checks
    before it only look, and most cells have nothing to trim."""
    if "wide" in features or "space" in features:
        padded = (
            f"prefix({expr}, ' ') or suffix({expr}, ' ') or contains({expr}, chr(9)) "
            f"or contains({expr}, chr(10)) or contains({expr}, chr(13))"
        )
        expr = f"case when {padded} then trim({expr}, ' \t\r\n') else {expr} end"
    return f"nullif({expr}, '')"


def _is_formula_error(c: str) -> str:
    return f"((prefix({c}, '#') or prefix({c}, 'Err:')) and regexp_full_match({c}, {lit(FORMULA_ERROR)}))"


def _serial_date(number: str) -> str:
    """Excel serial day number (1900 system) → date."""
    return f"cast(date '1899-12-30' + cast(floor({number}) as integer) as date)"


# No regular expressions in the per-column parsing: each one is compiled per query and the
# many small files of a run pay that per chunk. Casts and strptime are precompiled.
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y年%m月%d号",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S",
]
MONTH_FORMATS = ["%Y-%m", "%Y/%m", "%Y.%m", "%Y年%m月", "%Y年%m月份", "%Y%m"]


def _formats(candidates: list[str], features: frozenset[str]) -> str:
    """The formats whose literal characters the column holds somewhere (all when not known)."""
    if "lits" in features:
        present = {f[4:] for f in features if f.startswith("lit:")}
        candidates = [f for f in candidates if set(re.sub("%.", "", f)) <= present] or candidates
    return "[" + ", ".join(lit(f) for f in candidates) + "]"


def _date_inputs(c: str, name: str, kind: str) -> list[str]:
    """The text a date is parsed from, computed once per cell (a CTE level before ``parsed``):
    ``b__`` without a time part ("2015/6/3 0:00:00") or spaces ("2015 年 6 月 3 日"), ``d__`` it
    as a number (serial days); for months ``m__``, the text without spaces (keeps "1-9月")."""
    day = (
        f"case when contains({c}, ':') and contains({c}, ' ') "
        f"then left({c}, length({c}) - strpos(reverse({c}), ' ')) else {c} end"
    )
    bare = f"replace({day}, ' ', '')"
    inputs = [f"{bare} as b__{name}", f"try_cast({bare} as double) as d__{name}"]
    return inputs + ([f"replace({c}, ' ', '') as m__{name}"] if kind == "month" else [])


def _date_of(name: str, features: frozenset[str]) -> str:
    """A date from any written form (spaces ignored), or NULL. Serials: 5 digits (1927–2173)."""
    bare, number = f"b__{name}", f"d__{name}"
    return (
        f"case when {number} between 10000 and 99999 then {_serial_date(number)} "
        f"when {number} is not null and length({bare}) <> 8 then null "
        f"else cast(try_strptime({bare}, {_formats(DATE_FORMATS, features)}) as date) end"
    )


def _month_of(name: str, features: frozenset[str]) -> str:
    """The first day of the month from '2015-09', '2015年9月', '201509', '2015年1-9月', a date."""
    bare = f"m__{name}"
    span = "(\\d{4})年?1[-~至到—](\\d{1,2})月份?"  # "2015年1-9月": the report of January to September
    span_month = (
        f"try(make_date(cast(regexp_extract({bare}, {lit(span)}, 1) as integer), "
        f"cast(regexp_extract({bare}, {lit(span)}, 2) as integer), 1))"
    )
    return (
        f"coalesce(cast(try_strptime({bare}, {_formats(MONTH_FORMATS, features)}) as date), "
        f"case when contains({bare}, '1') and regexp_full_match({bare}, {lit(span)}) then {span_month} end, "
        f"date_trunc('month', {_date_of(name, features)}))"
    )


def _column_exprs(
    column: Column, features: frozenset[str], has_number_flag: bool
) -> tuple[list[str], list[str], str, str | None, str | None]:
    """(inputs, intermediates, value, error code or None, note code or None) for one column:
    inputs are computed from ``cleaned``, intermediates from the inputs."""
    name = column.name
    c = f"c__{name}"
    p = f"p__{name}"
    hash_ = "hash" in features
    err = _is_formula_error(c) if hash_ else "false"

    def unless_error(expr: str) -> str:
        return f"case when {err} then null else {expr} end" if hash_ else expr

    kind = column.kind
    if kind in ("date", "month"):
        fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m"
        in_range = f"{p} between date '{DATE_MIN}' and date '{DATE_MAX}'"
        inputs = []
        if "iso" in features:  # every cell is YYYY-MM-DD (date cells): a cast is enough
            parse = (
                f"try_cast({c} as date)" if kind == "date" else f"date_trunc('month', try_cast({c} as date))"
            )
        else:
            inputs = _date_inputs(c, name, kind)
            parse = _date_of(name, features) if kind == "date" else _month_of(name, features)
        value = f"case when {in_range} then strftime({p}, '{fmt}') end"
        error = (
            f"case when {c} is null then null when {err} then 'formula_error' "
            f"when {p} is null then 'unparseable_{kind}' when not ({in_range}) then 'date_out_of_range' end"
        )
        return inputs, [f"{unless_error(parse)} as {p}"], value, error, None
    if kind in ("count", "amount"):
        if "digits" in features:  # only digits in this column: no units, signs or separators
            return [], [], f"cast(cast({c} as hugeint) as varchar)", None, None
        # "1,234人", "¥1,200元": separators, spaces and units off, then a decimal cast
        units = COUNT_UNITS if kind == "count" else "元整¥￥"
        bare = f"rtrim(ltrim(replace(replace({c}, ',', ''), ' ', ''), '¥￥'), {lit(units)})"
        # decimal(38, 6) parses text ~50x slower than decimal(18, 6): only for what 18 digits can't hold
        number = f"coalesce(try_cast({bare} as decimal(18, 6)), try_cast({bare} as decimal(38, 6)))"
        if kind == "count":
            value = f"case when {p} >= 0 and {p} = trunc({p}) then cast(cast({p} as hugeint) as varchar) end"
            not_whole = f"when {p} <> trunc({p}) then 'not_a_whole_number' "
        else:
            value = (
                f"case when {p} >= 0 and {p} = trunc({p}) then cast(cast({p} as hugeint) as varchar) "
                f"when {p} >= 0 then rtrim(cast({p} as varchar), '0') end"
            )
            not_whole = ""
        error = (
            f"case when {c} is null then null when {err} then 'formula_error' "
            f"when {p} is null then 'not_a_number' when {p} < 0 then 'negative_number' "
            f"{not_whole}end"
        )
        return [], [f"{unless_error(number)} as {p}"], value, error, None
    error = f"case when {err} then 'formula_error' end" if hash_ else None
    value = f"case when {err} then null else {c} end" if hash_ else c
    rounded = (
        f"(contains(upper({c}), 'E+') and regexp_full_match(upper({c}), {lit(ROUNDED_NUMBER)}))"
        if "eplus" in features
        else "false"
    )
    if kind == "id_number":
        value = f"upper(replace(replace({value}, ' ', ''), '\t', ''))"
        if not has_number_flag and "eplus" not in features:
            return [], [], value, error, None
        typed = f"num__{name}" if has_number_flag else "false"
        note = (
            f"case when {c} is null or {err} then null when {typed} then 'id_number_typed_as_number' "
            f"when {rounded} then 'id_number_rounded' end"
        )
        return [], [], value, error, note
    if kind == "text" and "eplus" in features:
        return [], [], value, error, f"case when {rounded} then 'code_rounded_by_excel' end"
    return [], [], value, error, None


def _reason_case(code_expr: str, source: Source) -> str:
    required = "、".join(c.header for c in source.all_columns if c.required)
    whens = [f"when {lit(code)} then {lit(cell_reason(code))}" for code in CELL_REASONS]
    row_text = ROW_REASONS["row_without_key_fields"].format(required=required)
    whens.append(f"when 'row_without_key_fields' then {lit(row_text + ' [row_without_key_fields]')}")
    return f"case {code_expr} " + " ".join(whens) + " end"
