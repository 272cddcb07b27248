-- 开班日期缺失或超出统计月份: a ledger row whose 开班日期 is blank or unreadable (the reader set
-- it NULL and quarantined the cell), or falls outside the warehouse's months (dim_month:
-- vars first_month .. last_month). The counting rule places a course by its start month, so
-- such a row is not counted anywhere.
with ledger_rows as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
    where list_contains(row_checks, 'missing_start_date')
),

final as (
    select
        {{ dq_finding('missing_start_date', month=none) }}
        case
            when start_date is null
                then format(
                    '{}班次的开班日期为空或无法识别：请按 2015-06-03 格式补填开班日期。',
                    coalesce(programme_name, '培训项目未填的')
                )
            else format(
                '{}班次的开班日期 {} 不在统计期 {} 至 {} 内：请核实开班日期（常见为年份录错）。',
                coalesce(programme_name, '培训项目未填的'),
                strftime(start_date, '%Y-%m-%d'),
                '{{ var("first_month")[:7] }}',
                '{{ var("last_month")[:7] }}'
            )
        end || {{ disqualifying_reason('missing_start_date') }} as detail,
        start_date
    from ledger_rows
)

select * from final
