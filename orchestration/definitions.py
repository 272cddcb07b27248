"""The one Dagster code location: everything under orchestration/defs/, one folder per area."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # In-process: DuckDB takes one writer, and each multiprocess step worker costs ~17 s to start here.
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))
