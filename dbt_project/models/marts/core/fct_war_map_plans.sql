-- Planned trainee-times per village × programme from the township war maps (乡镇作战图), with
-- the plan's year. A village planned twice for one year keeps its most recently ingested row;
-- rows whose county cannot be resolved are summed under UNKNOWN; totals rows are left out.
with plans as (
    select * from {{ ref('stg_war_maps__village_plans') }}
    where not is_total_row
),

latest as (
    select
        *,
        {{ region_key('county_code', 'township_name', 'village_name') }} as region_key
    from plans
    qualify county_code is null or row_number() over (
        partition by county_code, township_name, village_name, plan_year
        order by ingested_at desc, source_file desc, sheet desc, row_number desc
    ) = 1
),

unpivoted as (
    {%- for code in programme_codes() %}
        select
            plan_year,
            city_code,
            county_code,
            township_name,
            village_name,
            region_key,
            '{{ code | upper }}' as programme_code,
            plan_{{ code }} as planned_trainee_times,
            source_file,
            sheet,
            row_number
        from latest
        where plan_{{ code }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        plan_year,
        min(city_code) as city_code,
        min(county_code) as county_code,
        min(township_name) as township_name,
        min(village_name) as village_name,
        region_key,
        programme_code,
        cast(sum(planned_trainee_times) as integer) as planned_trainee_times,
        case when count(*) = 1 then min(source_file) end as source_file,
        case when count(*) = 1 then min(sheet) end as sheet,
        case when count(*) = 1 then min(row_number) end as row_number
    from unpivoted
    group by plan_year, region_key, programme_code
)

select * from final
