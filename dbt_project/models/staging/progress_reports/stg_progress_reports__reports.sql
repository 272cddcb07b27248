-- Progress report (任务进度统计汇总表): one row per county or township per month. Counts are
-- cumulative for the year up to the report month; task_* is the year's task, done_* the
-- trainee-times done so far. A county's (or township's) month sent twice — a revised file — is
-- resolved here, once for every model: the row of the greater file name wins (then sheet, then
-- row), the others are is_superseded with the winner named (see dbt_project/README.md, 修订).
with source as (
    select * from {{ source('raw', 'progress_reports') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        {{ clean_place_name('city') }} as city_name,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_place_name('township') }} as township_name,
        {{ to_month('report_month') }} as report_month,
        {{ to_count('target_persons') }} as target_persons,
        {{ to_count('certified_persons') }} as certified_persons,
        {{ to_count('transferred_persons') }} as transferred_persons,
        {%- for code in programme_codes() %}
            {{ to_count('task_' ~ code) }} as task_{{ code }},
            {{ to_count('done_' ~ code) }} as done_{{ code }},
        {%- endfor %}
        {{ is_total_row(['city', 'county', 'township']) }} as is_total_row,
        -- 填报日期 of the sheet's 填报单位 row (NULL when the sheet has none): the received date
        {{ filled_on_date('sheet_title') }} as received_date,
        ingested_at
    from source
),

with_level as (
    select
        *,
        case when township_name is null then 'county' else 'township' end as report_level
    from renamed
),

resolved as (
    {{ resolve_region('with_level', 'county_name', 'city_name') }}
),

ranked as (
    {{ rank_submissions('resolved', ['county_code', 'township_name', 'report_month'], 'report_month') }}
)

select * from ranked
