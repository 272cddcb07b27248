-- 身份证地区码与登记县区不符 (warning): a valid ID (or an old 15-digit one, upgraded) whose first six digits (where the ID was
-- issued) are not the code of the county the row belongs to. People who moved in are
-- legitimate, so this only asks for a look.
with person_rows as (
    select * from {{ ref('dq_person_rows') }}
    where is_valid_id and county_code is not null and id_region_code != county_code
),

final as (
    select
        {{ dq_finding('id_region_mismatch', programme_code=none, month='as_of_month') }}
        format(
            '{}中身份证号码“{}”的地区码 {}（{}）与所在县区 {}（{}）不符：如为迁入人员可不处理，否则请核对号码。',
            document_zh,
            coalesce(id_number_masked, '未填'),
            coalesce(id_region_code, '未知'),
            coalesce(id_region_name_zh, '甘肃省外或已撤销的地区'),
            coalesce(county_code, '未知'),
            coalesce(county_name_zh, '')
        ) || {{ disqualifying_reason('id_region_mismatch') }} as detail,
        source_name,
        id_region_code,
        id_number_masked
    from person_rows
)

select * from final
