"""The analysts' questions, read from dbt_project/README.md so the bench times what the README shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

README = DBT_PROJECT_DIR / "README.md"
SECTION = "## Questions analysts ask"


@dataclass(frozen=True)
class Query:
    number: int
    title: str
    sql: str


def analyst_queries(readme: Path = README) -> list[Query]:
    """Each ``-- N. title`` comment of the section's sql block and the statement under it."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    if block is None:
        raise ValueError(f"no sql block under '{SECTION}' in {readme}")
    queries = []
    for match in re.finditer(r"^-- (\d+)\. (.*?)\n(.*?);", block.group(1), re.S | re.M):
        queries.append(Query(int(match.group(1)), match.group(2).strip(), match.group(3).strip()))
    if not queries:
        raise ValueError(f"no '-- N. title' queries under '{SECTION}' in {readme}")
    return queries
