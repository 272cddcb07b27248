-- 培训需求未分类: a household member with a training need (培训需求) that no rule places in
-- one of the seven programmes (int_training_needs_classified), so it cannot be planned for.
with needs as (
    select * from {{ ref('int_training_needs_classified') }}
    where not is_classified
),

final as (
    select
        {{ dq_finding(
            'unclassified_training_need',
            programme_code=none,
            month="cast(date_trunc('month', collected_on) as date)",
            period="strftime(date_trunc('month', collected_on), '%Y-%m')"
        ) }}
        case
            when training_need is null
                then '户级采集表填了“有培训需求”，但没有写想学什么：请与本人核实后填写培训需求（如“想学电焊”“养殖技术”）。'
            else format(
                '培训需求“{}”（劳动力类别：{}）无法归入七类培训项目：请与本人核实想学的项目或工种后重新填写。',
                coalesce(training_need, '未填'),
                coalesce(labour_category_text, '未填')
            )
        end as detail,
        unclassified_reason,
        training_need,
        labour_category
    from needs
)

select * from final
