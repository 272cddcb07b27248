"""Data quality: Great Expectations suites (expectations/*.json) run as Dagster asset checks.

``orchestration.lib.quality.gx_runner`` is the only module that touches GX; ``validation_runs``
appends each result to dq.validation_runs; ``checks`` turns the suites into checks on raw/<source>
and on the dq models. The reconciliations and dq.findings are dbt models (dbt_project/models/dq).
"""
