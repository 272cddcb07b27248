"""Skip reports whose data did not change: a fingerprint of what a report is built from.

The fingerprint is a sha256 of the report's inputs (``CityInputs`` / ``ProvinceInputs``: the
rows of dq.findings, the attainment marts and the people shown, a few thousand values; a city's
work list, tens of thousands of rows, by the digest DuckDB computes of it, ``data.WorkList``), of
``REPORT_VERSION`` and of the source of the modules that lay a report out (content, workbook,
html), so that a change of the layout rewrites every report without anyone remembering to bump.
The generation date shown in a report is not part of it: a report keeps the date its content
last changed.

It is kept beside the files, in ``<month>/.fingerprints/<file stem>.json`` (one small file per
report, so that the city and province assets never write the same file), with the names of the
files it stands for. A report is up to date when that record has the same fingerprint and all
its files exist; it is written last, after the files, so an interrupted write is redone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

# Bump to rewrite every report on the next run (a change the inputs and the layout code don't show).
REPORT_VERSION = 1
RECORD_DIR = ".fingerprints"
_LAYOUT_MODULES = ("content.py", "workbook.py", "html.py", "work_list.py", "person_matches.py")


def _layout_hash() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _LAYOUT_MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


LAYOUT_HASH = _layout_hash()


def _json_value(value: object) -> object:
    """JSON for what json.dumps does not know: dates, decimals, a City (tagged, so 1 ≠ "1")."""
    if isinstance(value, (date, datetime)):
        return f"{type(value).__name__}:{value.isoformat()}"
    if isinstance(value, Decimal):
        return f"Decimal:{value}"
    if hasattr(value, "fingerprint_value"):  # stands for rows not read (data.WorkList)
        return value.fingerprint_value()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(inputs: object) -> str:
    """sha256 of the report's inputs, its version and its layout code."""
    fields = {}
    for f in dataclasses.fields(inputs):
        value = getattr(inputs, f.name)
        if isinstance(value, dict):  # people: (file, sheet, row) → (name, masked ID)
            value = sorted(([*key, *person] for key, person in value.items()), key=repr)
        fields[f.name] = value
    payload = {
        "report_version": REPORT_VERSION,
        "layout": LAYOUT_HASH,
        "kind": type(inputs).__name__,
        "inputs": fields,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_path(folder: Path, stem: str) -> Path:
    return folder / RECORD_DIR / f"{stem}.json"


def is_up_to_date(folder: Path, stem: str, digest: str) -> bool:
    """Whether the report's files exist and were written from inputs with this fingerprint."""
    try:
        record = json.loads(_record_path(folder, stem).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = record.get("files") or []
    return record.get("fingerprint") == digest and bool(files) and all((folder / f).is_file() for f in files)


def record(folder: Path, stem: str, digest: str, files: list[Path]) -> None:
    """Remembers the fingerprint of the files just written (atomically: a reader sees old or new)."""
    path = _record_path(folder, stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"fingerprint": digest, "report_version": REPORT_VERSION, "files": [p.name for p in files]},
        ensure_ascii=False,
        indent=1,
    )
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def replace_atomically(path: Path, write) -> Path:
    """Calls ``write(tmp)`` on a temporary file beside ``path``, then moves it into place, so that
    an official opening the folder never sees half a workbook."""
    tmp = path.with_name(f".{path.stem}.writing{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
