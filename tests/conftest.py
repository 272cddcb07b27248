"""Shared fixtures: the sample warehouse is built once per test session and read by many tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.resources import REPO_ROOT, Settings

SAMPLE_RAW_DIR = REPO_ROOT / "raw"

BUILD_ENV_VARS = (
    "TRAINING_RAW_DIR",
    "TRAINING_WAREHOUSE",
    "TRAINING_ANALYTICS_DB",
    "TRAINING_REPORTS_DIR",
    "DAGSTER_HOME",
)


@dataclass(frozen=True)
class SampleBuild:
    settings: Settings
    result: dg.ExecuteInProcessResult


def build_env(root: Path, raw_dir: Path) -> dict[str, str]:
    """Environment for a build whose outputs all live under `root`."""
    return {
        "TRAINING_RAW_DIR": str(raw_dir),
        "TRAINING_WAREHOUSE": str(root / "warehouse" / "training.duckdb"),
        "TRAINING_ANALYTICS_DB": str(root / "warehouse" / "analytics.duckdb"),
        "TRAINING_REPORTS_DIR": str(root / "reports"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }


def build_settings(root: Path, raw_dir: Path) -> Settings:
    """Settings for an in-process build whose outputs all live under `root` (as `build_env`)."""
    return Settings(
        raw_dir=raw_dir,
        warehouse=root / "warehouse" / "training.duckdb",
        analytics_db=root / "warehouse" / "analytics.duckdb",
        reports_dir=root / "reports",
        dagster_home=root / "dagster_home",
    )


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """The full pipeline run once, in-process, on the committed sample in raw/.

    The settings are passed to the run, not written into the environment (the run opens the
    Dagster instance of settings.dagster_home itself).
    """
    from orchestration.cli.runs import run_full_refresh

    settings = build_settings(tmp_path_factory.mktemp("sample_build"), SAMPLE_RAW_DIR)
    result = run_full_refresh(settings)
    assert result.success, "the sample build failed; see the Dagster log above"
    return SampleBuild(settings, result)
