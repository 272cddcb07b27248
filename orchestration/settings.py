"""Paths and settings from environment variables, with defaults that work on a fresh checkout.

The one reader of the environment: ``Settings.from_env`` (paths, and the contact and deadline
printed at the top of every city report) and ``pii_key``. Both read the
repository's ``.env`` first (``load_env_file``, python-dotenv): `make run`, `make ui`, `make sql`
and `make backfill` all go through here, so ``.env`` means the same to each; a variable set in
the shell wins over ``.env``. Plain Python, nothing heavy: ingest worker processes and the dbt
plugin import it. The Dagster resources built from
these settings are in ``orchestration.resources``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# Nothing the pipeline runs may call out (closed government networks; orchestration/cli/instance.py
# explains each one).
OFFLINE_ENV = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
}

# KEY=value lines, see .env.example; git ignores .env.
ENV_FILE = REPO_ROOT / ".env"


def load_env_file(path: Path | None = None) -> None:
    """Put the variables of ``.env`` into the environment, those not set already."""
    path = path or ENV_FILE
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


# Development default for the pseudonymisation key. Production sets TRAINING_PII_KEY and
# TRAINING_ENV=production, in which case a missing key stops the run.
DEV_PII_KEY = "dev-only-not-secret-gansu-training"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    path = Path(value) if value else default
    return path if path.is_absolute() else (REPO_ROOT / path)


def deadline_day(value: str | None) -> int | None:
    """TRAINING_REPORT_DEADLINE_DAY: a day of the month, 1 to 31, or None when unset or blank."""
    if value is None or not value.strip():
        return None
    try:
        day = int(value.strip())
    except ValueError:
        day = 0
    if not 1 <= day <= 31:
        raise ValueError(
            f"TRAINING_REPORT_DEADLINE_DAY must be a day of the month, 1 to 31 (the day of the month "
            f"after the report's by which corrections are due); got {value!r}"
        )
    return day


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    analytics_db: Path
    reports_dir: Path
    dagster_home: Path
    # the line at the top of every city report: who takes corrections, and the day of the month
    # after the report's by which they are due (blank: no such line)
    report_contact: str = ""
    report_deadline_day: int | None = None

    @classmethod
    def from_env(cls) -> Settings:
        load_env_file()
        return cls(
            raw_dir=_path("TRAINING_RAW_DIR", REPO_ROOT / "raw"),
            warehouse=_path("TRAINING_WAREHOUSE", REPO_ROOT / "warehouse" / "training.duckdb"),
            analytics_db=_path("TRAINING_ANALYTICS_DB", REPO_ROOT / "warehouse" / "analytics.duckdb"),
            reports_dir=_path("TRAINING_REPORTS_DIR", REPO_ROOT / "reports"),
            dagster_home=_path("DAGSTER_HOME", REPO_ROOT / ".dagster_home"),
            report_contact=os.environ.get("TRAINING_REPORT_CONTACT", "").strip(),
            report_deadline_day=deadline_day(os.environ.get("TRAINING_REPORT_DEADLINE_DAY")),
        )


def resolve_pii_key(key: str | None, environment: str) -> str:
    """The key given, else the development key, except in production (raises)."""
    if key:
        return key
    if environment.lower() == "production":
        raise RuntimeError(
            "TRAINING_PII_KEY is not set but TRAINING_ENV=production: refusing to pseudonymise "
            "personal data with the public development key. Set TRAINING_PII_KEY to a secret."
        )
    return DEV_PII_KEY


def pii_key() -> str:
    """The HMAC key for pseudonymous person and household keys."""
    load_env_file()
    return resolve_pii_key(os.environ.get("TRAINING_PII_KEY"), os.environ.get("TRAINING_ENV", "development"))
