-- Monthly target attainment for the province (甘肃省) × programme: the sum of its cities.
with cities as (
    select * from {{ ref('mart_city_attainment_monthly') }}
),

summed as (
    select
        month,
        min(year) as year,
        programme_code,
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
        programme_code,
        cast(annual_target as integer) as annual_target,
        cast(enrolled_in_month as integer) as enrolled_in_month,
        cast(enrolled_ytd as integer) as enrolled_ytd,
        round(enrolled_ytd / nullif(annual_target, 0), 4) as attainment_rate,
        expected_rate,
        round(annual_target * month(month) / 12.0 - enrolled_ytd, 2) as gap,
        cast(reported_ytd as integer) as reported_ytd,
        cast(reported_ytd - enrolled_ytd as integer) as report_minus_ledger,
        cast(counties as integer) as counties,
        cast(counties_reporting as integer) as counties_reporting,
        cast(counties_behind as integer) as counties_behind,
        cast(valid_enrolled_ytd as integer) as valid_enrolled_ytd,
        round(valid_enrolled_ytd / nullif(annual_target, 0), 4) as valid_attainment_rate,
        round(annual_target * month(month) / 12.0 - valid_enrolled_ytd, 2) as valid_gap
    from summed
)

select * from final
