-- The household goal (户均一证): every poor household with a training need should have at least
-- one member holding a vocational qualification certificate (职业资格证书). Households with a
-- need, and how many of them have a certificate holder, per village, county and city
-- (coverage_level) — a certificate counts whether the household sheet records it or a ledger
-- course awarded it, and only a vocational qualification counts (one with a 鉴定等级; never a
-- 结业证书 or 合格证: dim_household, macro is_vocational_qualification).
with households as (
    select * from {{ ref('dim_household') }}
    where not is_unknown
),

regions as (
    select * from {{ ref('dim_region') }}
),

rolled_up as (
    select
        case
            when grouping(households.village_name) = 0 then 'village'
            when grouping(households.county_code) = 0 then 'county'
            else 'city'
        end as coverage_level,
        households.city_code,
        households.county_code,
        households.township_name,
        households.village_name,
        count(*) as households,
        count(*) filter (where households.has_training_need) as households_with_need,
        count(*) filter (where households.has_training_need and households.has_certificate_holder)
            as households_with_need_and_certificate,
        count(*) filter (where households.has_certificate_holder) as households_with_certificate
    from households
    group by grouping sets (
        (households.city_code, households.county_code, households.township_name, households.village_name),
        (households.city_code, households.county_code),
        (households.city_code)
    )
),

final as (
    select
        rolled_up.coverage_level,
        case rolled_up.coverage_level
            when 'village' then {{ region_key('rolled_up.county_code', 'rolled_up.township_name', 'rolled_up.village_name') }}
            when 'county' then coalesce(rolled_up.county_code, 'UNKNOWN')
            else coalesce(rolled_up.city_code, 'UNKNOWN')
        end as region_key,
        rolled_up.city_code,
        cities.region_name as city_name,
        rolled_up.county_code,
        counties.region_name as county_name,
        rolled_up.township_name,
        rolled_up.village_name,
        rolled_up.households,
        rolled_up.households_with_need,
        rolled_up.households_with_need_and_certificate,
        rolled_up.households_with_need - rolled_up.households_with_need_and_certificate
            as households_with_need_without_certificate,
        rolled_up.households_with_certificate,
        round(rolled_up.households_with_need_and_certificate / nullif(rolled_up.households_with_need, 0), 4)
            as coverage_rate
    from rolled_up
    left join regions as cities on rolled_up.city_code = cities.region_key
    left join regions as counties on rolled_up.county_code = counties.region_key
)

select * from final
