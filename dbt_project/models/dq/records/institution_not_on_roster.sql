-- 培训机构不在名册: the ledger names an institution (by name or code) that no roster lists, or
-- names none, or a name several roster entries share. Training by an institution whose
-- qualification nobody checked cannot count.
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where institution_issue in ('institution_not_on_roster', 'institution_missing', 'institution_name_ambiguous')
),

final as (
    select
        {{ dq_finding('institution_not_on_roster', entity_key='coalesce(institution_key, trainee_key)') }}
        case institution_issue
            when 'institution_missing' then '培训台账未填写培训机构：请补填承担该班次的培训机构名称或统一社会信用代码。'
            when 'institution_name_ambiguous'
                then
                    format(
                        '培训机构“{}”在名册中对应多家机构，无法确定是哪一家：请改填统一社会信用代码。',
                        coalesce(institution_text_shown, '未填')
                    )
            else format(
                '培训机构“{}”不在培训机构名册中：请核实该机构的培训资质，有资质的补报名册。',
                coalesce(institution_text_shown, '未填')
            )
        end || {{ disqualifying_reason('institution_not_on_roster') }} as detail,
        institution_issue,
        institution_text_shown as institution
    from ledger_rows
)

select * from final
