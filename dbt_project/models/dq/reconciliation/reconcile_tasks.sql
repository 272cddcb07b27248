-- 任务数核对: per county, programme and year, the task the province allocated (年度培训任务分解表)
-- against what the townships' war maps plan in total and the largest task a county progress
-- report gives (任务数; the county's own row, else the sum of its townships' rows).
-- is_inflated when either is above the allocation. war_map_*: the village row to correct when
-- the plans are above it (the plan most above what its village trained).
with allocations as (
    select * from {{ ref('fct_task_allocations') }}
    where county_code != 'UNKNOWN'
),

plans as (
    select
        county_code,
        programme_code,
        plan_year as year,
        cast(sum(planned_trainee_times) as integer) as planned_total,
        count(distinct township_name) as planned_townships
    from {{ ref('fct_war_map_plans') }}
    where county_code is not null and plan_year is not null
    group by county_code, programme_code, plan_year
),

village_trained as (
    select
        county_code,
        township_name,
        village_name,
        programme_code,
        start_year as year,
        count(*) as trained
    from {{ ref('int_training_enrolments_deduplicated') }}
    where is_counted and county_code is not null
    group by all
),

inflating_rows as (
    -- the war-map row to correct when the plans are too many: the village row whose plan most
    -- exceeds the trainee-times its village really trained (ledger, counting rule); ties go to
    -- the first row by file, sheet and row
    select
        war_map_rows.county_code,
        war_map_rows.programme_code,
        war_map_rows.plan_year as year,
        war_map_rows.township_name,
        war_map_rows.village_name,
        war_map_rows.planned_trainee_times,
        war_map_rows.source_file,
        war_map_rows.sheet,
        war_map_rows.row_number
    from {{ ref('fct_war_map_plans') }} as war_map_rows
    left join village_trained
        on
            war_map_rows.county_code = village_trained.county_code
            and war_map_rows.township_name is not distinct from village_trained.township_name
            and war_map_rows.village_name is not distinct from village_trained.village_name
            and war_map_rows.programme_code = village_trained.programme_code
            and war_map_rows.plan_year = village_trained.year
    where war_map_rows.county_code is not null and war_map_rows.plan_year is not null and war_map_rows.row_number is not null
    qualify row_number() over (
        partition by war_map_rows.county_code, war_map_rows.programme_code, war_map_rows.plan_year
        order by
            war_map_rows.planned_trainee_times - coalesce(village_trained.trained, 0) desc,
            war_map_rows.source_file asc, war_map_rows.sheet asc, war_map_rows.row_number asc
    ) = 1
),

reported as (
    select * from {{ ref('fct_reported_progress') }}
    where report_level in ('county', 'township') and reported_task is not null
),

report_tasks as (
    select
        county_code,
        programme_code,
        report_month,
        reported_task,
        source_file,
        sheet,
        row_number
    from reported
    where report_level = 'county'
    union all
    select
        county_code,
        programme_code,
        report_month,
        cast(sum(reported_task) as integer) as reported_task,
        case when count(distinct source_file) = 1 then min(source_file) end as source_file,
        case when count(distinct source_file) = 1 and count(distinct sheet) = 1 then min(sheet) end as sheet,
        cast(null as integer) as row_number
    from reported
    where
        report_level = 'township'
        and not exists (
            select 1
            from reported as county_row
            where
                county_row.report_level = 'county'
                and county_row.county_code = reported.county_code
                and county_row.programme_code = reported.programme_code
                and county_row.report_month = reported.report_month
        )
    group by county_code, programme_code, report_month
),

report_maxima as (
    -- the largest task of the year and the first month it was given
    select
        county_code,
        programme_code,
        year(report_month) as year,
        max(reported_task) as max_report_task,
        arg_max(report_month, struct_pack(reported_task, neg := -epoch(report_month))) as max_task_month,
        arg_max(source_file, struct_pack(reported_task, neg := -epoch(report_month))) as report_source_file,
        arg_max(sheet, struct_pack(reported_task, neg := -epoch(report_month))) as report_sheet,
        arg_max(row_number, struct_pack(reported_task, neg := -epoch(report_month))) as report_row_number
    from report_tasks
    group by county_code, programme_code, year(report_month)
),

programmes as (
    select
        programme_code,
        name_zh as programme_name_zh
    from {{ ref('programmes') }}
),

counties as (
    select
        region_code as county_code,
        name_zh as county_name_zh
    from {{ ref('regions') }}
    where level = 'county'
),

final as (
    select
        allocations.city_code,
        allocations.county_code,
        counties.county_name_zh,
        allocations.programme_code,
        programmes.programme_name_zh,
        allocations.year,
        allocations.allocated_trainee_times as allocation,
        plans.planned_total,
        plans.planned_total - allocations.allocated_trainee_times as plan_minus_allocation,
        report_maxima.max_report_task,
        report_maxima.max_report_task - allocations.allocated_trainee_times as report_task_minus_allocation,
        report_maxima.max_task_month,
        report_maxima.report_source_file,
        report_maxima.report_sheet,
        report_maxima.report_row_number,
        allocations.source_file as allocation_source_file,
        inflating_rows.township_name as war_map_township,
        inflating_rows.village_name as war_map_village,
        inflating_rows.planned_trainee_times as war_map_village_plan,
        inflating_rows.source_file as war_map_source_file,
        inflating_rows.sheet as war_map_sheet,
        inflating_rows.row_number as war_map_row_number,
        coalesce(plans.planned_total > allocations.allocated_trainee_times, false) as is_plan_inflated,
        coalesce(report_maxima.max_report_task > allocations.allocated_trainee_times, false) as is_report_inflated,
        coalesce(plans.planned_total > allocations.allocated_trainee_times, false)
        or coalesce(report_maxima.max_report_task > allocations.allocated_trainee_times, false) as is_inflated
    from allocations
    left join plans
        on
            allocations.county_code = plans.county_code
            and allocations.programme_code = plans.programme_code
            and allocations.year = plans.year
    left join report_maxima
        on
            allocations.county_code = report_maxima.county_code
            and allocations.programme_code = report_maxima.programme_code
            and allocations.year = report_maxima.year
    left join inflating_rows
        on
            allocations.county_code = inflating_rows.county_code
            and allocations.programme_code = inflating_rows.programme_code
            and allocations.year = inflating_rows.year
    left join programmes on allocations.programme_code = programmes.programme_code
    left join counties on allocations.county_code = counties.county_code
)

select * from final
