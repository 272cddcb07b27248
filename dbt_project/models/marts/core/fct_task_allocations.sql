-- Allocated trainee-times (任务数) per county × programme × year. When a county's year arrives
-- twice (a draft and a final file), the winning row holds (the staging view's is_superseded:
-- the greater file name wins; dq superseded_submission lists the others); rows whose county
-- cannot be resolved are summed under UNKNOWN. Totals rows (合计) are left out.
with allocations as (
    select * from {{ ref('stg_task_allocations__allocations') }}
    where not is_total_row and allocation_year is not null
),

latest as (
    select
        *,
        count(*) over (partition by county_code, allocation_year) as versions
    from allocations
    qualify county_code is null or not is_superseded
),

unpivoted as (
    {%- for code in programme_codes() %}
        select
            allocation_year,
            city_code,
            county_code,
            '{{ code | upper }}' as programme_code,
            task_{{ code }} as allocated_trainee_times,
            versions,
            source_file,
            sheet,
            row_number
        from latest
        where task_{{ code }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        allocation_year as year,
        case when county_code is not null then min(city_code) end as city_code,
        coalesce(county_code, 'UNKNOWN') as county_code,
        coalesce(county_code, 'UNKNOWN') as region_key,
        programme_code,
        cast(sum(allocated_trainee_times) as integer) as allocated_trainee_times,
        cast(max(versions) as integer) as versions,
        case when count(*) = 1 then min(source_file) end as source_file,
        case when count(*) = 1 then min(sheet) end as sheet,
        case when count(*) = 1 then min(row_number) end as row_number
    from unpivoted
    group by allocation_year, county_code, programme_code
)

select * from final
