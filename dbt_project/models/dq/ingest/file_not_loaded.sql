-- 文件或工作表未能导入: a file that failed (unreadable, damaged, password, wrong type, …), or a
-- sheet refused (missing required column, no header, wrong folder) or hidden. Its rows are not
-- in any count, so the county must know. One finding per file or sheet.
with problems as (
    select * from {{ ref('ingest_problems') }}
    where problem_level in ('file', 'sheet')
),

final as (
    select
        {{ dq_finding(
            'file_not_loaded',
            township=none,
            village=none,
            entity_key="case when problem_level = 'file' then source_file else source_file || ' · ' || sheet end",
            programme_code=none,
            month=none
        ) }}
        case
            when problem_level = 'file' then '整个文件未能导入：'
            else format('工作表“{}”未能导入：', sheet)
        end || problem_zh || '。处理办法：' || action_zh as detail,
        problem_level,
        reason_code
    from problems
)

select * from final
