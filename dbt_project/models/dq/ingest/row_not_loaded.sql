-- 数据行未能导入: a row the ingest left out (e.g. no key field to say whose or where it is).
-- It is in no count, so the county must fill it in. One finding per row.
with problems as (
    select * from {{ ref('ingest_problems') }}
    where problem_level = 'row'
),

final as (
    select
        {{ dq_finding(
            'row_not_loaded',
            township=none,
            village=none,
            entity_key="source_file || ' · ' || coalesce(sheet, '') || ' · ' || cast(row_number as varchar)",
            programme_code=none,
            month=none
        ) }}
        format('第 {} 行未能导入：', row_number) || problem_zh || '。处理办法：' || action_zh as detail,
        reason_code
    from problems
)

select * from final
