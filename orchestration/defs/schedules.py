"""The pipeline's calendar: monthly partitions and the schedule that closes each month.

How partitions meet dbt: the dbt models are not partitioned. Every mart holds all months and
a dbt build is one statement per table over all of them (seconds in DuckDB), so splitting it
by month would only multiply runs. What is per month is what officials receive: the per-city
report assets (group `reports`) are partitioned by `monthly_partitions` with a single-run
backfill policy, so one run writes any range of months. A job holding both runs the dbt
models once and the reports for the run's month or range of months.
"""

from datetime import datetime

import dagster as dg

from orchestration.defs.jobs import monthly_attainment

TIMEZONE = "Asia/Shanghai"

# Keys read as months, "2015-01", like the marts' `month` column and the reports/<month>/ folders.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2015-01", fmt="%Y-%m", timezone=TIMEZONE)


def previous_month(now: datetime) -> str:
    """The last month that has ended at `now` (Asia/Shanghai): the month a tick closes."""
    return monthly_partitions.get_partition_keys(current_time=now)[-1]


@dg.schedule(
    name="monthly_attainment_schedule",
    cron_schedule="0 2 1 * *",
    execution_timezone=TIMEZONE,
    target=monthly_attainment,
    description="02:00 Beijing time on the 1st of every month: close the previous month "
    "(attainment marts, checks, city reports, analysts' snapshot).",
)
def monthly_attainment_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    month = previous_month(context.scheduled_execution_time)
    tags = {"training/month": month}
    job = context.repository_def.get_job(monthly_attainment.name)
    if job.partitions_def is None:
        # No monthly asset selected (no report assets loaded): the run rebuilds every month.
        return dg.RunRequest(run_key=month, tags=tags)
    return dg.RunRequest(run_key=month, partition_key=month, tags=tags)
