-- 身份证号码被 Excel 四舍五入: the ID was typed into a number cell, Excel kept 15 significant
-- digits and shows 6.2E+17. The lost digits cannot be recovered and are never guessed.
with person_rows as (
    select * from {{ ref('dq_person_rows') }}
    where id_status = 'rounded'
),

final as (
    select
        'rounded_id_number' as check_name,
        'error' as severity,
        city_code,
        county_code,
        township_name as township,
        village_name as village,
        source_file,
        sheet,
        row_number,
        trainee_key as entity_key,
        cast(null as varchar) as programme_code,
        strftime(as_of_month, '%Y-%m') as period,
        as_of_month,
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
