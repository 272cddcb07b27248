-- 预计完成情况: at the end of every month, the year-end trainee-times projected at the current
-- pace per county, city and province × programme, the attainment it gives, what each remaining
-- month needs to reach the target, and whether the target will be missed. The method, picked by
-- the backtest in docs/forecast.md (bench/forecast_backtest.py):
--   earlier_year_profile  done so far ÷ the share of last year's province total (same programme)
--                         done by the same month — when the province has last year's twelve months;
--   recent_3_months       done so far + the mean of the last three months × months left (months
--                         1–6 without last year's profile);
--   year_to_date_pace     done so far × 12 ÷ month (months 7–11 without last year's profile);
--   actual                December: the year is over.
with counties as (
    select
        month,
        year,
        'county' as region_level,
        county_code as region_code,
        city_code,
        county_code,
        programme_code,
        annual_target,
        enrolled_in_month,
        enrolled_ytd
    from {{ ref('mart_target_attainment_monthly') }}
),

cities as (
    select
        month,
        year,
        'city' as region_level,
        city_code as region_code,
        city_code,
        cast(null as varchar) as county_code,
        programme_code,
        annual_target,
        enrolled_in_month,
        enrolled_ytd
    from {{ ref('mart_city_attainment_monthly') }}
),

province as (
    select
        month,
        year,
        'province' as region_level,
        province_code as region_code,
        cast(null as varchar) as city_code,
        cast(null as varchar) as county_code,
        programme_code,
        annual_target,
        enrolled_in_month,
        enrolled_ytd
    from {{ ref('mart_province_attainment_monthly') }}
),

regions as (
    select * from counties
    union all
    select * from cities
    union all
    select * from province
),

year_totals as (
    -- a year of the province is a profile when all twelve months are there and it trained someone
    select
        year,
        programme_code,
        max(enrolled_ytd) filter (where month(month) = 12) as year_total
    from province
    group by all
    having count(*) = 12
),

profiles as (
    -- last year's province share of the year done by the end of each month, per programme
    select
        province.year + 1 as year,
        province.programme_code,
        month(province.month) as month_number,
        province.enrolled_ytd / year_totals.year_total as share_done
    from province
    inner join year_totals
        on province.year = year_totals.year and province.programme_code = year_totals.programme_code
    where year_totals.year_total > 0
),

paced as (
    select
        regions.*,
        month(regions.month) as month_number,
        avg(regions.enrolled_in_month) over (
            partition by regions.region_level, regions.region_code, regions.programme_code, regions.year
            order by regions.month
            rows between 2 preceding and current row
        ) as recent_per_month,
        profiles.share_done
    from regions
    left join profiles
        on
            regions.year = profiles.year
            and regions.programme_code = profiles.programme_code
            and month(regions.month) = profiles.month_number
),

methods as (
    select
        *,
        case
            when month_number = 12 then 'actual'
            when share_done > 0 then 'earlier_year_profile'
            when month_number <= 6 then 'recent_3_months'
            else 'year_to_date_pace'
        end as method
    from paced
),

projected as (
    select
        *,
        cast(round(
            case method
                when 'actual' then enrolled_ytd
                when 'earlier_year_profile' then enrolled_ytd / share_done
                when 'recent_3_months' then enrolled_ytd + recent_per_month * (12 - month_number)
                else enrolled_ytd * 12.0 / month_number
            end
        ) as integer) as projected_year_end
    from methods
),

final as (
    select
        month,
        cast(year as integer) as year,
        region_level,
        region_code,
        city_code,
        county_code,
        programme_code,
        cast(annual_target as integer) as annual_target,
        cast(enrolled_ytd as integer) as enrolled_ytd,
        projected_year_end,
        {{ attainment('rate', 'projected_year_end', target='annual_target') }} as projected_attainment_rate,
        case
            when annual_target is null then null
            when enrolled_ytd >= annual_target then 0
            when month_number < 12 then cast(ceil((annual_target - enrolled_ytd) / (12 - month_number)) as integer)
        end as needed_per_month,
        projected_year_end < annual_target as will_miss,
        method
    from projected
)

select * from final
