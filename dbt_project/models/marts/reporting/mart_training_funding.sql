-- Training money (培训补贴) by year, county, programme and fund source (资金来源: 就业资金 /
-- 扶贫资金 / 农业专项资金 / 其他): what was paid, per enrolment, below the 2005 standard
-- (var minimum_subsidy_yuan, 300 yuan), and what was paid for repeated courses.
with enrolments as (
    select * from {{ ref('fct_training_enrolments') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

summed as (
    select
        start_year as year,
        city_code,
        county_code,
        programme_code,
        coalesce(fund_source, '未填写') as fund_source,
        count(*) as enrolments,
        count(subsidy_yuan) as enrolments_with_subsidy,
        cast(coalesce(sum(subsidy_yuan), 0) as decimal(16, 2)) as subsidy_yuan,
        count(*) filter (where subsidy_yuan < {{ var('minimum_subsidy_yuan') }}) as enrolments_below_minimum_subsidy,
        count(*) filter (where is_duplicate) as duplicate_enrolments,
        cast(coalesce(sum(subsidy_yuan) filter (where is_duplicate), 0) as decimal(16, 2)) as subsidy_yuan_for_duplicates
    from enrolments
    group by start_year, city_code, county_code, programme_code, coalesce(fund_source, '未填写')
),

final as (
    select
        summed.year,
        summed.city_code,
        cities.region_name as city_name,
        coalesce(summed.county_code, 'UNKNOWN') as county_code,
        counties.region_name as county_name,
        summed.programme_code,
        summed.fund_source,
        summed.enrolments,
        summed.enrolments_with_subsidy,
        summed.subsidy_yuan,
        round(summed.subsidy_yuan / nullif(summed.enrolments_with_subsidy, 0), 2) as subsidy_yuan_per_enrolment,
        round(
            summed.subsidy_yuan
            / nullif(sum(summed.subsidy_yuan) over (partition by summed.year, summed.county_code), 0),
            4
        ) as share_of_county_subsidy,
        summed.enrolments_below_minimum_subsidy,
        summed.duplicate_enrolments,
        summed.subsidy_yuan_for_duplicates
    from summed
    left join regions as cities on summed.city_code = cities.region_key
    left join regions as counties on summed.county_code = counties.region_key
)

select * from final
