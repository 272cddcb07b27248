"""Every dbt seed and model as a Dagster asset, every dbt test as an asset check.

Lineage runs unbroken from ingest: each dbt source carries ``meta.dagster.asset_key``
``[raw, <source name>]`` (models/staging/_sources.yml), the key of the ingest asset that fills
``raw.<table>``. Models are keyed ``[<schema>, <model>]`` (staging/…, marts/…, dq/…) and grouped
by layer: reference (the seeds), staging (staging views, intermediate tables), marts (dims, facts,
reporting marts) and quality (models/dq); every one has an owner (OWNERS_BY_GROUP).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.lib.transform.dbt_metadata import stream_with_table_metadata
from orchestration.lib.transform.project import dbt_project, ensure_manifest
from orchestration.resources import PiiKeyResource

# First folder under models/ → Dagster group.
GROUP_BY_FOLDER = {"staging": "staging", "intermediate": "staging", "marts": "marts", "dq": "quality"}

# Who answers for each group's tables (the same teams as the ingest, quality and report assets).
OWNERS_BY_GROUP = {
    "reference": ["team:data-engineering"],
    "staging": ["team:data-engineering"],
    "marts": ["team:analytics"],
    "quality": ["team:data-quality"],
}


class TrainingDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        configured = super().get_group_name(dbt_resource_props)  # meta.dagster.group wins
        if configured:
            return configured
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return GROUP_BY_FOLDER.get(fqn[1] if len(fqn) > 2 else "", "staging")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        configured = super().get_owners(dbt_resource_props)  # meta.dagster.owners wins
        return configured or OWNERS_BY_GROUP[self.get_group_name(dbt_resource_props) or "staging"]


translator = TrainingDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="gansu_training_dbt",
    # Unpartitioned models in a run over a range of months: build them once, not once a month.
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def gansu_training_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, pii_key: PiiKeyResource):
    """dbt build of the selected models, seeds and tests (dbt_project/).

    The dbt resource (orchestration/resources.py) hands dbt the warehouse and the key it was built
    with: profiles.yml reads TRAINING_WAREHOUSE and the plugin TRAINING_PII_KEY. Each model and
    seed is recorded with its column types, row count (tables and seeds) and column-level lineage,
    logged by its post-hook (orchestration/lib/transform/dbt_metadata.py).
    """
    pii_key.value()  # raises in production when TRAINING_PII_KEY is missing, before dbt starts
    yield from stream_with_table_metadata(dbt.cli(["build"], context=context), context)
