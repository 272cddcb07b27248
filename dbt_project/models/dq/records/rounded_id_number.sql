-- 身份证号码被 Excel 四舍五入: the ID was typed into a number cell, Excel kept 15 significant
-- digits and shows 6.2E+17. The lost digits cannot be recovered and are never guessed.
with person_rows as (
    select * from {{ ref('dq_person_rows') }}
    where id_status = 'rounded'
),

final as (
    select
        {{ dq_finding('rounded_id_number', programme_code=none, month='as_of_month') }}
        format(
            '{}中身份证号码被 Excel 存成数字，显示为“{}”，后几位已四舍五入、无法恢复：'
            || '请把该列设为“文本”格式，按居民身份证重新录入。',
            document_zh,
            coalesce(id_number_masked, '未填')
        ) || {{ disqualifying_reason('rounded_id_number') }} as detail,
        source_name,
        id_status,
        id_number_masked
    from person_rows
)

select * from final
