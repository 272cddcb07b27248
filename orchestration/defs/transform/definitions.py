"""The dbt resource the transform assets run with (the assets themselves are in assets.py)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.transform.project import dbt_executable, dbt_project
from orchestration.instance import OfflineDbtCliResource


@dg.definitions
def transform_resources() -> dg.Definitions:
    # OfflineDbtCliResource: dagster-dbt would otherwise run `dbt --version`, which asks pypi.org.
    # dbt_executable: the virtual environment's dbt, also when its bin/ is not on PATH.
    dbt = OfflineDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    return dg.Definitions(resources={"dbt": dbt})
