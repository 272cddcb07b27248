"""Jobs named for what they do."""

import dagster as dg

full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every raw file that changed, rebuild all models, run every check, "
    "write the city reports and publish the analysts' snapshot.",
)
