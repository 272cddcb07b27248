{{ config(materialized='ephemeral') }}
-- The month a finding without a date of its own is reported in (findings.as_of_month): the
-- earliest month of any dated record of its file (a ledger's first course start, a household
-- sheet's first collection date, a village sheet's first filing date, a report's month, the
-- January of an allocation's or war map's year). A file with no dated record (a roster, a file
-- that could not be loaded) has no row here; findings.sql then takes the first month of the
-- province's findings. So an undated finding appears once, as new in that month, and is carried
-- forward from there like any other, never counted anew each month.
with dated as (
    select
        source_file,
        min(start_date) as first_date
    from {{ ref('stg_training_ledgers__records') }}
    group by source_file
    union all
    select
        source_file,
        min(collected_on) as first_date
    from {{ ref('stg_household_sheets__members') }}
    group by source_file
    union all
    select
        source_file,
        min(reported_on) as first_date
    from {{ ref('stg_village_sheets__villages') }}
    group by source_file
    union all
    select
        source_file,
        min(report_month) as first_date
    from {{ ref('stg_progress_reports__reports') }}
    group by source_file
    union all
    select
        source_file,
        min(make_date(allocation_year, 1, 1)) as first_date
    from {{ ref('stg_task_allocations__allocations') }}
    group by source_file
    union all
    select
        source_file,
        min(make_date(plan_year, 1, 1)) as first_date
    from {{ ref('stg_war_maps__village_plans') }}
    group by source_file
),

final as (
    select
        source_file,
        cast(date_trunc('month', min(first_date)) as date) as first_month
    from dated
    where first_date is not null
    group by source_file
)

select * from final
