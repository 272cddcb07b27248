-- 重复培训: the same person in the same programme more than once in a year. The counting rule
-- counts one trainee-time per person × programme × year; the first course (by start date, then
-- sheet row) counts, every later one is flagged here with where the first one is.
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where is_duplicate
),

final as (
    select
        {{ dq_finding('duplicate_training', period='cast(start_year as varchar)') }}
        format(
            '同一学员 {} 年重复参加{}（本行开班 {}；首次记录在“{}”{}第 {} 行）：同一人同一项目每年只计 1 人次，请删除重复记录或说明原因。',
            coalesce(cast(start_year as varchar), '未知'),
            coalesce(programme_name_zh, '培训项目未填的班次'),
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填'),
            coalesce(duplicate_of_source_file, '未知文件'),
            case when coalesce(duplicate_of_sheet, '') = '' then '' else '工作表“' || duplicate_of_sheet || '”' end,
            coalesce(cast(duplicate_of_row_number as varchar), '?')
        ) || {{ disqualifying_reason('duplicate_training') }} as detail,
        start_year,
        start_date,
        duplicate_of_source_file,
        duplicate_of_sheet,
        duplicate_of_row_number
    from ledger_rows
)

select * from final
