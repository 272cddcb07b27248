-- 培训工种未经核准: the course's trade (培训工种) is not among the trades the roster approves
-- for the institution (核准培训工种).
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where not is_trade_approved
),

final as (
    select
        {{ dq_finding('trade_not_approved', entity_key='institution_key') }}
        format(
            '{}的核准培训工种中没有“{}”（{}班次，开班 {}）：请核实是否超范围培训，或由机构补办该工种的核准。',
            coalesce(roster_institution_name, '该培训机构'),
            coalesce(trade, '未填'),
            coalesce(programme_name_zh, '培训项目未填的'),
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填')
        ) || {{ disqualifying_reason('trade_not_approved') }} as detail,
        roster_institution_name as institution,
        trade
    from ledger_rows
)

select * from final
