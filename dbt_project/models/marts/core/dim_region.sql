-- Regions from province to village (省 → 市州 → 县市区 → 乡镇 → 行政村). Province, cities
-- and counties come from GB/T 2260 (seed regions); townships and villages have no national
-- code, so they are the ones the sheets name under a resolved county, keyed
-- "<county code>/<township>/<village>". Poverty counties carry their exit year and its basis.
{%- set place_models = ['stg_household_sheets__members', 'stg_village_sheets__villages', 'stg_training_ledgers__records', 'stg_war_maps__village_plans', 'stg_progress_reports__reports'] %}

with regions as (
    select * from {{ ref('regions') }}
),

poverty as (
    select * from {{ ref('poverty_counties') }}
),

places as (
    -- every township and village named under a resolved county, in any sheet
    {%- for model in place_models %}
        select
            county_code,
            township_name,
            {{ 'null' if model == 'stg_progress_reports__reports' else 'village_name' }} as village_name
        from {{ ref(model) }}
        {%- if model != 'stg_household_sheets__members' and model != 'stg_training_ledgers__records' %}
            where not is_total_row
        {%- endif %}
        {% if not loop.last %}union{% endif %}
    {%- endfor %}
),

named_places as (
    select * from places
    where county_code is not null and township_name is not null
),

village_sheets as (
    -- the latest village sheet describes the village
    select
        {{ region_key('county_code', 'township_name', 'village_name') }} as region_key,
        is_old_revolutionary_area,
        is_ethnic_minority_village
    from {{ ref('stg_village_sheets__villages') }}
    where not is_total_row and county_code is not null and township_name is not null and village_name is not null
    qualify row_number() over (
        partition by county_code, township_name, village_name
        order by reported_on desc nulls last, ingested_at desc, source_file desc, row_number desc
    ) = 1
),

gb_regions as (
    select
        region_code as region_key,
        level as region_level,
        region_code,
        name_zh as region_name,
        parent_code as parent_region_key,
        case when level in ('city', 'county') then city_code end as city_code,
        case when level = 'county' then region_code end as county_code,
        null as township_name,
        null as village_name
    from regions
),

townships as (
    select distinct
        county_code || '/' || township_name as region_key,
        'township' as region_level,
        null as region_code,
        township_name as region_name,
        county_code as parent_region_key,
        null as city_code,
        county_code,
        township_name,
        null as village_name
    from named_places
),

villages as (
    select distinct
        county_code || '/' || township_name || '/' || village_name as region_key,
        'village' as region_level,
        null as region_code,
        village_name as region_name,
        county_code || '/' || township_name as parent_region_key,
        null as city_code,
        county_code,
        township_name,
        village_name
    from named_places
    where village_name is not null
),

all_regions as (
    select * from gb_regions
    union all
    select * from townships
    union all
    select * from villages
),

known as (
    select
        all_regions.region_key,
        all_regions.region_level,
        all_regions.region_code,
        all_regions.region_name,
        all_regions.parent_region_key,
        '620000' as province_code,
        coalesce(all_regions.city_code, counties.city_code) as city_code,
        cities.name_zh as city_name,
        all_regions.county_code,
        counties.name_zh as county_name,
        all_regions.township_name,
        all_regions.village_name,
        poverty.county_code is not null as is_poverty_county,
        poverty.exit_year as poverty_exit_year,
        poverty.exit_basis as poverty_exit_basis,
        village_sheets.is_old_revolutionary_area,
        village_sheets.is_ethnic_minority_village,
        false as is_unknown
    from all_regions
    left join regions as counties
        on all_regions.county_code = counties.region_code
    left join regions as cities
        on coalesce(all_regions.city_code, counties.city_code) = cities.region_code
    left join poverty
        on all_regions.county_code = poverty.county_code
    left join village_sheets
        on all_regions.region_key = village_sheets.region_key
),

unknown as (
    select
        'UNKNOWN' as region_key,
        'unknown' as region_level,
        null as region_code,
        '未知地区' as region_name,
        null as parent_region_key,
        '620000' as province_code,
        null as city_code,
        null as city_name,
        null as county_code,
        null as county_name,
        null as township_name,
        null as village_name,
        false as is_poverty_county,
        null as poverty_exit_year,
        null as poverty_exit_basis,
        null as is_old_revolutionary_area,
        null as is_ethnic_minority_village,
        true as is_unknown
)

select * from known
union all
select * from unknown
