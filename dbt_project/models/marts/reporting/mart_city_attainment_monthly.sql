-- Monthly target attainment per city (市州) × programme: the sum of its counties' rows.
-- reported_ytd sums the counties that reported that month (counties_reporting says how many).
-- A county without an allocation (no_task_allocated) adds its trainee-times, not a target.
with counties as (
    select * from {{ ref('mart_target_attainment_monthly') }}
),

summed as (
    select
        month,
        min(year) as year,
        city_code,
        min(city_name) as city_name,
        programme_code,
        min(programme_name_zh) as programme_name_zh,
        sum(annual_target) as annual_target,
        sum(enrolled_in_month) as enrolled_in_month,
        sum(enrolled_ytd) as enrolled_ytd,
        sum(valid_enrolled_ytd) as valid_enrolled_ytd,
        min(expected_rate) as expected_rate,
        sum(reported_ytd) as reported_ytd,
        count(*) as counties,
        count(reported_ytd) as counties_reporting,
        count(*) filter (where gap > 0) as counties_behind
    from counties
    group by month, city_code, programme_code
),

final as (
    select
        month,
        cast(year as integer) as year,
        city_code,
        city_name,
        programme_code,
        programme_name_zh,
        {{ rolled_up_attainment_measures() }}
    from summed
)

select * from final
