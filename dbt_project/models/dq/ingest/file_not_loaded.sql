-- 文件或工作表未能导入: a file that failed (unreadable, damaged, password, wrong type, …), or a
-- sheet refused (missing required column, no header, wrong folder) or hidden. Its rows are not
-- in any count, so the county must know. One finding per file or sheet.
with problems as (
    select * from {{ ref('ingest_problems') }}
    where problem_level in ('file', 'sheet')
),

final as (
    select
        'file_not_loaded' as check_name,
        'error' as severity,
        city_code,
        county_code,
        cast(null as varchar) as township,
        cast(null as varchar) as village,
        source_file,
        sheet,
        row_number,
        case
            when problem_level = 'file' then source_file
            else source_file || ' · ' || sheet
        end as entity_key,
        cast(null as varchar) as programme_code,
        cast(null as varchar) as period,
        cast(null as date) as as_of_month,
        case
            when problem_level = 'file' then '整个文件未能导入：'
            else format('工作表“{}”未能导入：', sheet)
        end || problem_zh || '。处理办法：' || action_zh as detail,
        problem_level,
        reason_code
    from problems
)

select * from final
