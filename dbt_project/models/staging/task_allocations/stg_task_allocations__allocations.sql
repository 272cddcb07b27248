-- Annual task allocation (年度培训任务分解表): one row per county per year, the allocated
-- trainee-times per programme. A county's year sent twice (a draft and a final file) is resolved
-- here: the greater file name wins (then sheet, then row), the others are is_superseded.
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
),

ranked as (
    {{ rank_submissions('resolved', ['county_code', 'allocation_year'], 'allocation_year') }}
)

select * from ranked
