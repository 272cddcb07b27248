-- 培训项目无法识别: a ledger row whose 培训项目 is blank, or names none of the seven programmes
-- (nor a variant in programme_name_variants.csv), or fits several. The counting rule cannot
-- place it in a programme, so it is not counted anywhere.
with ledger_rows as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
    where programme_code is null
),

final as (
    select
        {{ dq_finding('unknown_programme', programme_code=none) }}
        case
            when programme_name is null
                then '培训台账未填写培训项目：请按七类培训项目之一（如“就业技能培训”“农业实用技术培训”）补填。'
            when programme_issue = 'programme_name_ambiguous'
                then format('培训项目“{}”可对应多个培训项目，无法确定：请按七类培训项目的标准名称重新填写。', programme_name)
            else format('培训项目“{}”不是七类培训项目之一：请按标准名称（如“就业技能培训”）重新填写，或核实是否属于精准扶贫培训。', programme_name)
        end || {{ disqualifying_reason('unknown_programme') }} as detail,
        coalesce(programme_issue, 'programme_missing') as programme_issue,
        programme_name
    from ledger_rows
)

select * from final
