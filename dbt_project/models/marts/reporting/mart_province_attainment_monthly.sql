-- Monthly target attainment for the province (甘肃省) × programme: the sum of its cities.
with cities as (
    select * from {{ ref('mart_city_attainment_monthly') }}
),

summed as (
    select
        month,
        min(year) as year,
        programme_code,
        min(programme_name_zh) as programme_name_zh,
        sum(annual_target) as annual_target,
        sum(enrolled_in_month) as enrolled_in_month,
        sum(enrolled_ytd) as enrolled_ytd,
        sum(valid_enrolled_ytd) as valid_enrolled_ytd,
        min(expected_rate) as expected_rate,
        sum(reported_ytd) as reported_ytd,
        sum(counties) as counties,
        sum(counties_reporting) as counties_reporting,
        sum(counties_behind) as counties_behind
    from cities
    group by month, programme_code
),

final as (
    select
        month,
        cast(year as integer) as year,
        '620000' as province_code,
        '甘肃省' as province_name,
        programme_code,
        programme_name_zh,
        {{ rolled_up_attainment_measures() }}
    from summed
)

select * from final
