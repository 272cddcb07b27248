-- 培训机构资质过期: the course started after the institution's qualification ran out
-- (资质有效期至 in the roster).
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where not is_qualification_valid_at_start
),

final as (
    select
        {{ dq_finding('institution_qualification_expired', entity_key='institution_key') }}
        format(
            '{}的培训资质有效期至 {}，该{}班次 {} 开班时已过期 {} 天：请核实。',
            coalesce(roster_institution_name, '该培训机构'),
            coalesce(strftime(qualification_valid_until, '%Y-%m-%d'), '未知'),
            coalesce(programme_name_zh, '（培训项目未填）'),
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填'),
            coalesce(cast(date_diff('day', qualification_valid_until, start_date) as varchar), '?')
        ) || {{ disqualifying_reason('institution_qualification_expired') }} as detail,
        roster_institution_name as institution,
        qualification_valid_until,
        start_date
    from ledger_rows
)

select * from final
