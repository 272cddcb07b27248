"""The Dagster instance folder: created on first use with telemetry switched off."""

from __future__ import annotations

import os
from pathlib import Path

# Government networks are closed: no telemetry, no usage statistics, no version checks.
OFFLINE_ENV = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
}

DAGSTER_YAML = """\
# Written by orchestration/instance.py. Offline by design: no telemetry.
telemetry:
  enabled: false
"""


def prepare_dagster_home(home: Path) -> Path:
    """Make sure DAGSTER_HOME exists and says telemetry: enabled: false."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def apply_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
