"""The checks of dq.findings, in report order: name, Chinese title, severity, what they point at.

Read from the one catalog, dbt_project/seeds/dq_checks.csv, which dbt loads as reference.dq_checks
and dq.findings joins for the same titles, order and severity (tests/quality/test_dq_catalog.py).
``about_a_row``: the finding points at one person's sheet row (household sheet or ledger), so a
city's own report may show the person's name and masked ID beside it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CATALOG_CSV = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "dq_checks.csv"


@dataclass(frozen=True)
class Check:
    name: str
    title_zh: str
    severity: str  # error | warning
    about_a_row: bool


def _read_catalog(path: Path = CATALOG_CSV) -> tuple[Check, ...]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda row: int(row["check_order"]))
    return tuple(
        Check(row["check_name"], row["title_zh"], row["severity"], row["about_a_row"] == "true")
        for row in rows
    )


CHECKS: tuple[Check, ...] = _read_catalog()
CHECK_BY_NAME = {check.name: check for check in CHECKS}
SEVERITY_ZH = {"error": "错误", "warning": "提示"}
