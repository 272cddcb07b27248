-- 报表报送完整性和及时性 (DHIS2's reporting rate, for this domain): per county × month × source,
-- whether the monthly progress report (情况汇报 / 任务进度统计汇总表) was expected and received,
-- the day it was filled in (填报日期 of its 填报单位 row, staging received_date) and whether it
-- was on time. The rules (docs/defects.md, report_missing):
--   expected: every month of a year the county has a task allocation for, up to the latest
--             month any county reported (the province's reporting month; later months are not
--             yet due);
--   received: a row of the county for the month (its own or a township's) in a progress report
--             that is not superseded;
--   on time:  filled in by the 5th of the next month (due_date); later is late; a sheet without
--             a 填报日期 is received with timeliness date_unknown.
-- A month received without an allocation has a row too (is_expected false).
with reports as (
    select * from {{ ref('stg_progress_reports__reports') }}
    where not is_total_row and not is_superseded and county_code is not null and report_month is not null
),

received as (
    select
        county_code,
        report_month as month,
        max(received_date) as received_date,
        min(source_file) as source_file,
        count(distinct source_file) as files
    from reports
    group by all
),

reporting_month as (
    select max(report_month) as last_month from reports
),

allocated as (
    select distinct
        year,
        county_code
    from {{ ref('fct_task_allocations') }}
    where county_code != 'UNKNOWN'
),

expected as (
    select
        allocated.county_code,
        months.month
    from allocated
    inner join {{ ref('dim_month') }} as months on allocated.year = months.year
    cross join reporting_month
    where not months.is_unknown and months.month <= reporting_month.last_month
),

both_sides as (
    select
        coalesce(expected.county_code, received.county_code) as county_code,
        coalesce(expected.month, received.month) as month,
        expected.county_code is not null as is_expected,
        received.county_code is not null as is_received,
        received.received_date,
        received.source_file,
        coalesce(received.files, 0) as files
    from expected
    full join received
        on expected.county_code = received.county_code and expected.month = received.month
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        both_sides.month,
        cast(year(both_sides.month) as integer) as year,
        counties.city_code,
        both_sides.county_code,
        'progress_reports' as source_name,
        both_sides.is_expected,
        both_sides.is_received,
        both_sides.received_date,
        cast(both_sides.month + interval 1 month + interval 4 day as date) as due_date,
        case
            when not both_sides.is_received then 'missing'
            when both_sides.received_date is null then 'date_unknown'
            when both_sides.received_date <= both_sides.month + interval 1 month + interval 4 day then 'on_time'
            else 'late'
        end as timeliness,
        both_sides.is_received
        and both_sides.received_date <= both_sides.month + interval 1 month + interval 4 day as is_on_time,
        case
            when both_sides.received_date > both_sides.month + interval 1 month + interval 4 day
                then cast(date_diff('day', both_sides.month + interval 1 month + interval 4 day, both_sides.received_date) as integer)
        end as days_late,
        both_sides.source_file,
        cast(both_sides.files as integer) as files
    from both_sides
    left join counties on both_sides.county_code = counties.county_code
)

select * from final
