"""The rule tables of the dbt project agree with the generator's contract, and the SQL is lint-clean."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.generate.vocab import CATEGORY_PROGRAMMES, NEED_KEYWORDS
from orchestration.lib.transform.duckdb_pii_plugin import hmac_macro_sql, hmac_sha256_hex
from orchestration.resources import DBT_PROJECT_DIR, REPO_ROOT
from orchestration.sources import PROGRAMME_CODES

SEEDS = DBT_PROJECT_DIR / "seeds"


def read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_need_keywords_seed_is_the_documented_keyword_table():
    # docs/defects.md: the classification rule shared by the generator and the warehouse
    seeded = {(row["keyword"], row["programme_code"]) for row in read_seed("training_need_keywords")}
    documented = {(word, code) for code, words in NEED_KEYWORDS.items() for word in words}
    assert seeded == documented


def test_labour_category_seed_is_the_documented_mapping():
    seeded = {
        row["labour_category"]: tuple(row["programme_codes"].split("|"))
        for row in read_seed("labour_category_programmes")
    }
    assert seeded == dict(CATEGORY_PROGRAMMES)
    for row in read_seed("labour_category_programmes"):
        assert row["programme_code"] == row["programme_codes"].split("|")[0]


@pytest.mark.parametrize("key", ["dev-only-not-secret-gansu-training", "k" * 100, "密钥"])
def test_hmac_macro_is_rfc_2104_hmac_sha256(key):
    con = duckdb.connect()
    con.execute(hmac_macro_sql(key))
    for value in ["person:620102198501011234", "中文", ""]:
        (got,) = con.execute("select hmac_sha256(?)", [value]).fetchone()
        assert got == hmac_sha256_hex(value, key)
    # the key is a temporary macro of this connection, not something another one can see
    other = con.cursor()
    with pytest.raises(duckdb.CatalogException):
        other.execute("select hmac_sha256('x')")


def test_programme_macro_lists_the_contract_codes():
    macro = (DBT_PROJECT_DIR / "macros" / "programmes.sql").read_text(encoding="utf-8")
    listed = macro.split("return([", 1)[1].split("])", 1)[0]
    assert [code.strip(" '") for code in listed.split(",")] == [c.lower() for c in PROGRAMME_CODES]


# The transform layers; models/dq belongs to the quality area and is linted with it.
LINTED = [
    "dbt_project/models/staging",
    "dbt_project/models/intermediate",
    "dbt_project/models/marts",
    "dbt_project/models/dq",
    "dbt_project/tests",
]


@pytest.mark.slow
def test_sql_is_lint_clean():
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    result = subprocess.run(
        [str(sqlfluff), "lint", *LINTED, "--nofail", "--format", "github-annotation"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stdout.strip() in ("", "[]"), result.stdout[-4000:]
