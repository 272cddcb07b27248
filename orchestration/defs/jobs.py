"""Jobs named for what they do.

Selections are by asset group, so each job fills in as the areas add assets: ingest
(`raw/<source>`), staging and marts (dbt), quality, reports (per city and month), publish.
"""

import dagster as dg

INGEST = dg.AssetSelection.groups("ingest")
REPORTS = dg.AssetSelection.groups("reports")
PUBLISH = dg.AssetSelection.groups("publish")

full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every raw file that changed, rebuild all models, run every check, "
    "write the city reports and publish the analysts' snapshot.",
)

monthly_attainment = dg.define_asset_job(
    "monthly_attainment",
    # The city reports and the snapshot with everything they are built from, except ingest:
    # the month is closed on the data already loaded (the raw-folder sensor loads new files).
    selection=(REPORTS | PUBLISH).upstream() - INGEST,
    description="Close a month: rebuild the attainment marts and data-quality models from the "
    "loaded data, run their checks, write that month's city reports, publish the snapshot.",
)

city_quality_reports = dg.define_asset_job(
    "city_quality_reports",
    selection=REPORTS,
    description="Write the per-city data-quality and attainment reports for the chosen months "
    "from the marts and findings already built (no dbt run).",
)
