"""The one Dagster code location: everything under orchestration/defs/, one folder per area, with
the resources (orchestration/resources.py) built once from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.resources import build_resources

if TYPE_CHECKING:
    from orchestration.settings import Settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The definitions with their resources made from ``settings`` (default: the environment)."""
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # In-process: DuckDB takes one writer, and each multiprocess step worker costs ~17 s to start here.
    return dg.Definitions.merge(
        loaded, dg.Definitions(executor=dg.in_process_executor, resources=build_resources(settings))
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
