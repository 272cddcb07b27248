"""The Dagster instance folder and the offline settings: no telemetry, no version checks.

Government networks are closed, so nothing the pipeline runs may call out:
- Dagster's webserver, daemon and CLIs send telemetry unless DAGSTER_HOME/dagster.yaml says
  `telemetry: enabled: false` (written here); DAGSTER_DISABLE_TELEMETRY covers processes
  started without that file.
- dbt sends usage statistics unless DBT_SEND_ANONYMOUS_USAGE_STATS=false (also set in
  dbt_project.yml flags).
- dagster-dbt runs `dbt --version` before every dbt command, and `dbt --version` always asks
  pypi.org for the newest release, whatever DBT_VERSION_CHECK says. OfflineDbtCliResource
  (orchestration/resources.py) answers the version from the installed package instead.
- Great Expectations 1.24 ships no analytics client; GX_ANALYTICS_ENABLED=false keeps it so.
- The Dagster UI's first-visit pop-up offers a newsletter form that posts to dagster.io:
  `nux: enabled: false` in dagster.yaml.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from orchestration.settings import OFFLINE_ENV

_MARKER = "# Written by orchestration/instance.py."

DAGSTER_YAML = f"""\
{_MARKER} Offline by design: no telemetry.
telemetry:
  enabled: false
# No "Join the Dagster community" pop-up: its newsletter form posts to dagster.io.
nux:
  enabled: false
# DuckDB takes one writer: runs launched from the UI, the schedule, the sensor or a backfill
# wait in the queue and go one at a time.
concurrency:
  runs:
    max_concurrent_runs: 1
"""


def prepare_dagster_home(home: Path) -> Path:
    """Make sure DAGSTER_HOME exists with our dagster.yaml (telemetry off, one run at a time).

    A dagster.yaml this module wrote earlier is brought up to date; one written by hand is
    left alone.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    existing = config.read_text(encoding="utf-8") if config.exists() else None
    if existing is None or (existing.startswith(_MARKER) and existing != DAGSTER_YAML):
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def apply_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def shell_lines(home: Path) -> list[str]:
    """`export` lines for the commands make starts: the instance, the offline settings, the port."""
    env = {
        "DAGSTER_HOME": str(home),
        **{key: os.environ.get(key, value) for key, value in OFFLINE_ENV.items()},
    }
    if os.environ.get("DAGSTER_PORT"):  # from the shell, make's command line or .env
        env["DAGSTER_PORT"] = os.environ["DAGSTER_PORT"]
    return [f"export {key}={shlex.quote(value)}" for key, value in env.items()]


def main(argv: list[str] | None = None) -> None:
    """Prepare DAGSTER_HOME and print its absolute path, or with --shell the lines `make ui` and
    `make backfill` eval (the settings, .env included, read by orchestration/settings.py)."""
    from orchestration.settings import Settings

    home = prepare_dagster_home(Settings.from_env().dagster_home).resolve()
    shell = "--shell" in (sys.argv[1:] if argv is None else argv)
    print("\n".join(shell_lines(home)) if shell else home)


if __name__ == "__main__":
    main()
