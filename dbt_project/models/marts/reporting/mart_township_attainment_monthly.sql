-- Township progress (乡镇任务完成进度) per township × programme × month, rolled up to the county:
-- the township war map's plan (作战图计划人次, summed over its villages) is the target; the
-- ledger's trainee-times under the counting rule are done, in the township of the person's first
-- course; the pro-rata line expects month/12 of the plan. Every month of every year a township
-- has a plan or counted trainee-times (then annual_target is NULL: the township is not on a war
-- map). region_level 'county' rows are the sum of the county's townships (township NULL): the
-- war maps' plan of the county, which task_inflated compares with the allocation.
with plans as (
    select
        plan_year as year,
        county_code,
        township_name as township,
        programme_code,
        sum(planned_trainee_times) as annual_target
    from {{ ref('fct_war_map_plans') }}
    where county_code is not null and county_code != 'UNKNOWN' and plan_year is not null
    group by all
),

counted as (
    select
        cast(start_year as integer) as year,
        county_code,
        township_name as township,
        programme_code,
        start_month as month,
        count(*) as enrolled_in_month
    -- the township is not in the fact (a place under the county is staging's)
    from {{ ref('int_training_enrolments_deduplicated') }}
    where is_counted
    group by all
),

counted_places as (
    select distinct
        year,
        county_code,
        township,
        programme_code
    from counted
),

tasks as (
    -- townships with a plan, and townships with counted trainee-times but no plan
    select
        coalesce(plans.year, counted.year) as year,
        coalesce(plans.county_code, counted.county_code) as county_code,
        coalesce(plans.township, counted.township) as township,
        coalesce(plans.programme_code, counted.programme_code) as programme_code,
        max(plans.annual_target) as annual_target
    from plans
    full join counted_places as counted
        on
            plans.year = counted.year
            and plans.county_code = counted.county_code
            and plans.township is not distinct from counted.township
            and plans.programme_code = counted.programme_code
    group by all
),

months as (
    select * from {{ ref('dim_month') }}
    where not is_unknown
),

townships as (
    select
        tasks.year,
        months.month,
        months.month_number,
        months.expected_rate,
        tasks.county_code,
        tasks.township,
        tasks.programme_code,
        tasks.annual_target,
        coalesce(counted.enrolled_in_month, 0) as enrolled_in_month,
        sum(coalesce(counted.enrolled_in_month, 0)) over (
            partition by tasks.county_code, tasks.township, tasks.programme_code, tasks.year
            order by months.month
            rows between unbounded preceding and current row
        ) as enrolled_ytd
    from tasks
    inner join months on tasks.year = months.year
    left join counted
        on
            tasks.county_code = counted.county_code
            and tasks.township is not distinct from counted.township
            and tasks.programme_code = counted.programme_code
            and months.month = counted.month
),

both_levels as (
    select
        'township' as region_level,
        *
    from townships
    union all
    select
        'county' as region_level,
        year,
        month,
        month_number,
        expected_rate,
        county_code,
        cast(null as varchar) as township,
        programme_code,
        sum(annual_target) as annual_target,
        sum(enrolled_in_month) as enrolled_in_month,
        sum(enrolled_ytd) as enrolled_ytd
    from townships
    group by all
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        both_levels.month,
        cast(both_levels.year as integer) as year,
        counties.city_code,
        both_levels.county_code,
        both_levels.township,
        both_levels.region_level,
        both_levels.programme_code,
        cast(both_levels.annual_target as integer) as annual_target,
        cast(both_levels.enrolled_in_month as integer) as enrolled_in_month,
        cast(both_levels.enrolled_ytd as integer) as enrolled_ytd,
        {{ attainment('rate', 'both_levels.enrolled_ytd', target='both_levels.annual_target') }} as attainment_rate,
        both_levels.expected_rate,
        {{ attainment(
            'gap', 'both_levels.enrolled_ytd', target='both_levels.annual_target',
            month_number='both_levels.month_number'
        ) }} as gap
    from both_levels
    left join counties on both_levels.county_code = counties.county_code
)

select * from final
