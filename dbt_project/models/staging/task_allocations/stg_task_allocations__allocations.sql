-- Annual task allocation (年度培训任务分解表): one row per county per year, the allocated
-- trainee-times per programme.
with source as (
    select * from {{ source('raw', 'task_allocations') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        {{ to_count('year') }} as allocation_year,
        {{ clean_place_name('city') }} as city_name,
        {{ clean_place_name('county') }} as county_name,
        {%- for code in programme_codes() %}
            {{ to_count('task_' ~ code) }} as task_{{ code }},
        {%- endfor %}
        {{ is_total_row(['city', 'county']) }} as is_total_row,
        ingested_at
    from source
),

resolved as (
    {{ resolve_region('renamed', 'county_name', 'city_name') }}
)

select * from resolved
