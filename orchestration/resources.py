"""Paths and settings from environment variables, with defaults that work on a fresh checkout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# Development default for the pseudonymisation key. Production sets TRAINING_PII_KEY and
# TRAINING_ENV=production, in which case a missing key stops the run.
DEV_PII_KEY = "dev-only-not-secret-gansu-training"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    path = Path(value) if value else default
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    analytics_db: Path
    reports_dir: Path
    dagster_home: Path

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            raw_dir=_path("TRAINING_RAW_DIR", REPO_ROOT / "raw"),
            warehouse=_path("TRAINING_WAREHOUSE", REPO_ROOT / "warehouse" / "training.duckdb"),
            analytics_db=_path("TRAINING_ANALYTICS_DB", REPO_ROOT / "warehouse" / "analytics.duckdb"),
            reports_dir=_path("TRAINING_REPORTS_DIR", REPO_ROOT / "reports"),
            dagster_home=_path("DAGSTER_HOME", REPO_ROOT / ".dagster_home"),
        )


def pii_key() -> str:
    """The HMAC key for pseudonymous person and household keys."""
    key = os.environ.get("TRAINING_PII_KEY")
    if key:
        return key
    if os.environ.get("TRAINING_ENV", "development").lower() == "production":
        raise RuntimeError(
            "TRAINING_PII_KEY is not set but TRAINING_ENV=production: refusing to pseudonymise "
            "personal data with the public development key. Set TRAINING_PII_KEY to a secret."
        )
    return DEV_PII_KEY
