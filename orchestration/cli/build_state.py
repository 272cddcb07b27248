"""What the last complete build was made from, so `make run` rebuilds only what changed.

After a run that rebuilt everything downstream of some raw tables succeeds, ``record_build``
stores in ``audit.builds`` a fingerprint of the code (dbt project, expectations, pipeline
modules, the PII key's fingerprint) and one fingerprint per raw table (rows, latest ingest, the
files' SHA-256). The next `make run` ingests, compares, and plans:

- no record, or the code changed: rebuild everything (a model, check or key may have changed);
- some raw tables changed: rebuild only what is downstream of those (a new county ledger does
  not rebuild the 4 million household members) and run their Great Expectations suites;
- nothing changed: nothing to do.

A failed or killed run records nothing, so the next run plans from the last good build again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.settings import REPO_ROOT, pii_key
from orchestration.sources import SOURCES

# The code a build depends on, relative to the repository root. Any change → full rebuild.
CODE_GLOBS = (
    "dbt_project/models/**/*",
    "dbt_project/macros/**/*",
    "dbt_project/seeds/**/*",
    "dbt_project/tests/**/*",
    "dbt_project/dbt_project.yml",
    "dbt_project/packages.yml",
    "expectations/**/*.json",
    "orchestration/**/*.py",
)

BUILDS_DDL = """
create schema if not exists audit;
create table if not exists audit.builds (
    run_id varchar not null,
    finished_at timestamptz not null,
    mode varchar not null,
    code_fingerprint varchar not null,
    source_fingerprints json not null
)
"""


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256()
    paths = sorted({p for pattern in CODE_GLOBS for p in root.glob(pattern) if p.is_file()})
    for path in paths:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    # The key changes every pseudonymous key; its HMAC of a constant tells that without revealing it.
    digest.update(hmac.new(pii_key().encode(), b"build fingerprint", hashlib.sha256).digest())
    return digest.hexdigest()


def source_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """One fingerprint per raw table: row count, latest ingest time and the set of file checksums,
    and the source's failed files (which add no row, but must reach dq.findings and the reports)."""
    existing = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    failed = _failed_files(con)
    fingerprints = {}
    for name, source in SOURCES.items():
        if source.table not in existing:
            fingerprints[name] = "absent"
            continue
        rows, latest, files = con.execute(
            f"select count(*), max(ingested_at), "
            f"md5(coalesce(string_agg(distinct file_sha256, ',' order by file_sha256), '')) "
            f'from raw."{source.table}"'
        ).fetchone()
        fingerprints[name] = f"{rows}|{latest}|{files}"
        if name in failed:
            fingerprints[name] += f"|failed:{failed[name]}"
    return fingerprints


def _failed_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """source → md5 of its currently failed files (name and checksum); sources without any absent."""
    (exists,) = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'file_state'"
    ).fetchone()
    if not exists:
        return {}
    rows = con.execute(
        "select source, md5(string_agg(source_file || ':' || coalesce(file_sha256, ''), ',' "
        "order by source_file)) from audit.file_state where status = 'failed' group by source"
    ).fetchall()
    return dict(rows)


@dataclass(frozen=True)
class BuildPlan:
    """What to rebuild after ingest: everything, the parts downstream of some sources, or nothing."""

    mode: str  # "full", "changed" or "nothing"
    reason: str
    changed_sources: tuple[str, ...] = ()
    code: str = ""
    sources: dict[str, str] = field(default_factory=dict)


def plan_build(warehouse: Path, force_full: bool = False) -> BuildPlan:
    code = code_fingerprint()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sources = source_fingerprints(con)
        last = _last_build(con)
    everything = tuple(SOURCES)
    if force_full:
        return BuildPlan("full", "asked for a full rebuild", everything, code, sources)
    if last is None:
        return BuildPlan("full", "no complete build recorded in this warehouse", everything, code, sources)
    last_code, last_sources = last
    if last_code != code:
        reason = "the code or the PII key changed since the last build"
        return BuildPlan("full", reason, everything, code, sources)
    changed = tuple(name for name in SOURCES if sources.get(name) != last_sources.get(name))
    if not changed:
        return BuildPlan("nothing", "no raw table changed since the last build", (), code, sources)
    return BuildPlan("changed", "raw tables changed: " + ", ".join(changed), changed, code, sources)


def _last_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, str]] | None:
    (exists,) = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'builds'"
    ).fetchone()
    if not exists:
        return None
    row = con.execute(
        "select code_fingerprint, source_fingerprints from audit.builds order by finished_at desc limit 1"
    ).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def record_build(warehouse: Path, run_id: str, plan: BuildPlan) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(BUILDS_DDL)
        con.execute(
            "insert into audit.builds values (?, ?, ?, ?, ?)",
            [run_id, datetime.now(UTC), plan.mode, plan.code, json.dumps(plan.sources, sort_keys=True)],
        )
