"""Shared fixtures: the sample warehouse is built once per test session and read by many tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.resources import REPO_ROOT, Settings

SHARED_DIR = REPO_ROOT.parent / "shared"
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


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """The full pipeline run once, in-process, on the committed sample in raw/."""
    from orchestration.run import run_full_refresh

    root = tmp_path_factory.mktemp("sample_build")
    saved = {k: os.environ.get(k) for k in BUILD_ENV_VARS}
    os.environ.update(build_env(root, SAMPLE_RAW_DIR))
    try:
        settings = Settings.from_env()
        result = run_full_refresh(settings)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.success, "the sample build failed; see the Dagster log above"
    return SampleBuild(settings, result)
