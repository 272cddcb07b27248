-- 数据行未能导入: a row the ingest left out (e.g. no key field to say whose or where it is).
-- It is in no count, so the county must fill it in. One finding per row.
with problems as (
    select * from {{ ref('ingest_problems') }}
    where problem_level = 'row'
),

final as (
    select
        'row_not_loaded' as check_name,
        'error' as severity,
        city_code,
        county_code,
        cast(null as varchar) as township,
        cast(null as varchar) as village,
        source_file,
        sheet,
        row_number,
        source_file || ' · ' || coalesce(sheet, '') || ' · ' || cast(row_number as varchar) as entity_key,
        cast(null as varchar) as programme_code,
        cast(null as varchar) as period,
        cast(null as date) as as_of_month,
        format('第 {} 行未能导入：', row_number) || problem_zh || '。处理办法：' || action_zh as detail,
        reason_code
    from problems
)

select * from final
