"""The Dagster resources every asset and check takes its settings from.

``build_resources(settings)`` is the one place they are made: the code location builds them from
the environment once (``Settings.from_env``, the single reader of environment variables), `make
run` and the tests from the Settings they were given. Assets never read the environment.

- ``paths``: the raw folder, the warehouse, the analysts' snapshot and the reports folder;
- ``warehouse``: DuckDB (dagster-duckdb), the warehouse connection of the assets and checks;
- ``pii_key``: the pseudonymisation key (refuses the development key in production);
- ``dbt``: dbt without `dbt --version` (which calls pypi.org), pointed at the same warehouse and key;
- ``report_settings``: the contact and deadline for corrections printed on every city report.

The plain settings (Settings, pii_key, REPO_ROOT, …) live in ``orchestration.settings``, which
imports nothing heavy (ingest worker processes and the dbt plugin import it); they are
re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging import version

from orchestration.settings import (
    DBT_PROJECT_DIR,
    DEV_PII_KEY,
    EXPECTATIONS_DIR,
    REPO_ROOT,
    Settings,
    pii_key,
    resolve_pii_key,
)

__all__ = [
    "DBT_PROJECT_DIR",
    "DEV_PII_KEY",
    "EXPECTATIONS_DIR",
    "REPO_ROOT",
    "OfflineDbtCliResource",
    "PathsResource",
    "PiiKeyResource",
    "ReportSettingsResource",
    "Settings",
    "WarehouseResource",
    "build_resources",
    "pii_key",
]


class PathsResource(dg.ConfigurableResource):
    """Where the pipeline reads and writes (absolute paths, resolved by Settings)."""

    raw_dir: str
    warehouse: str
    analytics_db: str
    reports_dir: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PathsResource:
        return cls(
            raw_dir=str(settings.raw_dir),
            warehouse=str(settings.warehouse),
            analytics_db=str(settings.analytics_db),
            reports_dir=str(settings.reports_dir),
        )

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def analytics_db_path(self) -> Path:
        return Path(self.analytics_db)

    @property
    def reports_path(self) -> Path:
        return Path(self.reports_dir)


class ReportSettingsResource(dg.ConfigurableResource):
    """Who takes corrections to a city report, and the day of the month after the report's by
    which they are due (TRAINING_REPORT_CONTACT, TRAINING_REPORT_DEADLINE_DAY): the line at the
    top of every city report; neither set, no line."""

    contact: str = ""
    deadline_day: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportSettingsResource:
        return cls(contact=settings.report_contact, deadline_day=settings.report_deadline_day)


class WarehouseResource(DuckDBResource):
    """The warehouse in DuckDB: ``get_connection()`` (dagster-duckdb) to write, and
    ``read_only_connection()`` for the assets that only read it."""

    @contextmanager
    def read_only_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(self.database, read_only=True) as con:
            yield con


class PiiKeyResource(dg.ConfigurableResource):
    """The HMAC key for pseudonymous person and household keys. ``value()`` raises in production
    when no key was set, rather than pseudonymise with the public development key."""

    key: str = ""
    environment: str = "development"

    @classmethod
    def from_env(cls) -> PiiKeyResource:
        return cls(
            key=os.environ.get("TRAINING_PII_KEY", ""),
            environment=os.environ.get("TRAINING_ENV", "development"),
        )

    def value(self) -> str:
        return resolve_pii_key(self.key, self.environment)


class OfflineDbtCliResource(DbtCliResource):
    """DbtCliResource that never runs `dbt --version` (which calls pypi.org), and runs dbt on the
    warehouse and with the key it was given.

    dagster-dbt only needs the major version (to tell dbt-core from dbt Fusion); dbt-core is
    installed in this environment, so its package version is the answer. profiles.yml reads the
    warehouse path from TRAINING_WAREHOUSE and the plugin the key from TRAINING_PII_KEY: dbt gets
    them from ``warehouse`` and ``pii_key`` for the length of the call (dagster-dbt passes dbt this
    process's environment and reads the profile in this process).
    """

    warehouse: str = ""
    pii_key: str = ""

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__ as dbt_core_version

        return version.parse(dbt_core_version)

    def cli(self, args, **kwargs):  # noqa: ANN001, ANN201 - DbtCliResource.cli's signature
        overrides = {"TRAINING_WAREHOUSE": self.warehouse, "TRAINING_PII_KEY": self.pii_key}
        overrides = {name: value for name, value in overrides.items() if value}
        saved = {name: os.environ.get(name) for name in overrides}
        os.environ.update(overrides)
        try:
            return super().cli(args, **kwargs)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def build_resources(settings: Settings | None = None, pii: PiiKeyResource | None = None) -> dict:
    """Every resource of the code location, from the given Settings (default: the environment)."""
    from orchestration.lib.transform.project import dbt_executable, dbt_project

    settings = settings or Settings.from_env()
    pii = pii or PiiKeyResource.from_env()
    return {
        "paths": PathsResource.from_settings(settings),
        "warehouse": WarehouseResource(database=str(settings.warehouse)),
        "pii_key": pii,
        "report_settings": ReportSettingsResource.from_settings(settings),
        # dbt_executable: the virtual environment's dbt, also when its bin/ is not on PATH.
        "dbt": OfflineDbtCliResource(
            project_dir=dbt_project,
            dbt_executable=dbt_executable(),
            warehouse=str(settings.warehouse),
            pii_key=pii.key,
        ),
    }
