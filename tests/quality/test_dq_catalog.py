"""One home for each check: seeds/dq_checks.csv is the catalog every other place agrees with.

Adding a check is one catalog row and one model in models/dq (plus its ref in findings.sql,
which dbt needs at parse time); these tests say which of them is missing.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from orchestration.lib.quality.catalog import CATALOG_CSV, CHECKS

REPO = Path(__file__).resolve().parents[2]
DQ_MODELS = REPO / "dbt_project" / "models" / "dq"


def catalog_rows() -> list[dict[str, str]]:
    with CATALOG_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check_models() -> dict[str, str]:
    """Every model of models/dq that makes findings (calls a finding macro), by name."""
    found = {}
    for path in DQ_MODELS.rglob("*.sql"):
        sql = path.read_text(encoding="utf-8")
        if re.search(r"\{\{\s*(dq_finding|report_vs_ledger_finding|course_length_finding)\(", sql):
            found[path.stem] = sql
    return found


def test_the_catalog_is_well_formed():
    rows = catalog_rows()
    assert [r["check_name"] for r in rows] == [c.name for c in CHECKS], "catalog.py reads the seed in order"
    assert sorted(int(r["check_order"]) for r in rows) == list(range(1, len(rows) + 1))
    assert {r["severity"] for r in rows} <= {"error", "warning"}
    assert {r["about_a_row"] for r in rows} <= {"true", "false"}
    assert all(r["title_zh"] and r["rule_doc"] for r in rows)
    headings = {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in (REPO / "docs" / "defects.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    for r in rows:
        path, _, anchor = r["rule_doc"].partition("#")
        assert (REPO / path).is_file() and anchor in headings, r


def test_every_check_model_is_in_the_catalog_and_every_row_has_a_model():
    models = check_models()
    assert sorted(models) == sorted(c.name for c in CHECKS)
    for name, sql in models.items():
        # the check's own name, and no severity of its own: the catalog's, through dq_finding()
        assert f"'{name}'" in sql, name
        assert not re.search(r"'(error|warning)'\s+as\s+severity", sql), name


def test_findings_unions_every_check_model_and_nothing_else():
    sql = (DQ_MODELS / "findings.sql").read_text(encoding="utf-8")
    block = sql[sql.index("set check_models") : sql.index("] %}")]
    assert sorted(re.findall(r"ref\('([a-z_]+)'\)", block)) == sorted(c.name for c in CHECKS)
    assert "ref('dq_checks')" in sql


def test_the_findings_suite_and_the_catalog_name_the_same_checks():
    suite = json.loads((REPO / "expectations" / "findings.json").read_text(encoding="utf-8"))
    (names,) = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "check_name" and e["type"] == "expect_column_values_to_be_in_set"
    ]
    assert names == [r["check_name"] for r in catalog_rows()]
