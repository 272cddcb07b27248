-- Self-reported progress (任务进度统计汇总表) per county or township × programme × month:
-- the year's task and the trainee-times done so far (cumulative from January). A region's
-- month reported twice keeps its most recently ingested row; rows whose county cannot be
-- resolved are summed under UNKNOWN; totals rows are left out.
with reports as (
    select * from {{ ref('stg_progress_reports__reports') }}
    where not is_total_row and report_month is not null
),

latest as (
    select
        *,
        {{ region_key('county_code', 'township_name', 'null') }} as region_key
    from reports
    where not is_superseded
),

unpivoted as (
    {%- for code in programme_codes() %}
        select
            report_month,
            report_level,
            city_code,
            county_code,
            township_name,
            region_key,
            '{{ code | upper }}' as programme_code,
            task_{{ code }} as reported_task,
            done_{{ code }} as reported_done,
            source_file,
            sheet,
            row_number
        from latest
        where task_{{ code }} is not null or done_{{ code }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        report_month,
        cast(year(report_month) as integer) as report_year,
        case when region_key = 'UNKNOWN' then 'unknown' else min(report_level) end as report_level,
        min(city_code) as city_code,
        min(county_code) as county_code,
        min(township_name) as township_name,
        region_key,
        programme_code,
        cast(sum(reported_task) as integer) as reported_task,
        cast(sum(reported_done) as integer) as reported_done,
        case when count(*) = 1 then min(source_file) end as source_file,
        case when count(*) = 1 then min(sheet) end as sheet,
        case when count(*) = 1 then min(row_number) end as row_number
    from unpivoted
    group by report_month, region_key, programme_code
)

select * from final
