-- The village work list (mart_village_work_list) counted per village, township and county
-- (summary_level), each for every programme and for all of them (programme_code 'ALL'):
-- persons and households still waiting for training in the year, how many of them are
-- priorities, and how many of the waiting households have nobody certified yet (户均一证).
with work_list as (
    select * from {{ ref('mart_village_work_list') }}
),

rolled_up as (
    select
        case
            when grouping(village_name) = 0 then 'village'
            when grouping(township_name) = 0 then 'township'
            else 'county'
        end as summary_level,
        year,
        city_code,
        county_code,
        township_name,
        village_name,
        case when grouping(programme_code) = 0 then programme_code else 'ALL' end as programme_code,
        count(*) as persons_waiting,
        count(distinct household_key) as households_waiting,
        count(distinct household_key) filter (where household_without_certificate)
            as households_waiting_without_certificate,
        count(distinct household_key) filter (where nearest_to_certificate_key is not null)
            as households_with_member_near_certificate,
        -- count_if sums to HUGEINT in DuckDB: counts are BIGINT everywhere in the marts
        count_if(is_priority)::bigint as priority_persons_waiting,
        count_if(is_young_prime_age)::bigint as young_prime_age_persons_waiting,
        count_if(approved_institution_count = 0)::bigint as persons_without_approved_institution
    from work_list
    group by grouping sets (
        (year, city_code, county_code, township_name, village_name, programme_code),
        (year, city_code, county_code, township_name, village_name),
        (year, city_code, county_code, township_name, programme_code),
        (year, city_code, county_code, township_name),
        (year, city_code, county_code, programme_code),
        (year, city_code, county_code)
    )
),

regions as (
    select * from {{ ref('dim_region') }}
),

final as (
    select
        rolled_up.summary_level,
        rolled_up.year,
        case rolled_up.summary_level
            when 'village' then {{ region_key('rolled_up.county_code', 'rolled_up.township_name', 'rolled_up.village_name') }}
            when 'township' then {{ region_key('rolled_up.county_code', 'rolled_up.township_name', 'null') }}
            else coalesce(rolled_up.county_code, 'UNKNOWN')
        end as region_key,
        rolled_up.city_code,
        counties.city_name,
        rolled_up.county_code,
        counties.county_name,
        rolled_up.township_name,
        rolled_up.village_name,
        rolled_up.programme_code,
        rolled_up.persons_waiting,
        rolled_up.households_waiting,
        rolled_up.households_waiting_without_certificate,
        rolled_up.households_with_member_near_certificate,
        rolled_up.priority_persons_waiting,
        rolled_up.young_prime_age_persons_waiting,
        rolled_up.persons_without_approved_institution
    from rolled_up
    left join regions as counties on rolled_up.county_code = counties.region_key
)

select * from final
