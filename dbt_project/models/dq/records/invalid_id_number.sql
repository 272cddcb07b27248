-- 身份证号码无效: an ID number that is neither valid (GB 11643, docs/defects.md) nor rounded by
-- Excel: empty, of the wrong length or characters, with a birth date or check character that
-- cannot be, or an old 15-digit number (withdrawn since 2013-01-01: a sheet of 2015 must carry
-- the 18-digit one; the warehouse upgrades it to identify the person, the sheet is still wrong).
-- One row per sheet row, in household sheets and ledgers alike.
with person_rows as (
    select * from {{ ref('dq_person_rows') }}
    where id_status not in ('valid', 'rounded')
),

final as (
    select
        {{ dq_finding('invalid_id_number', programme_code=none, month='as_of_month') }}
        coalesce(document_zh, '') || '中身份证号码' || case id_status
            when 'missing' then '为空：请按居民身份证补录 18 位号码。'
            when 'bad_length' then format('“{}”为 {} 位，应为 18 位：请按居民身份证重新录入。', coalesce(id_number_masked, ''), coalesce(cast(id_length as varchar), '?'))
            when 'bad_characters' then format('“{}”含有数字和 X 以外的字符：请按居民身份证重新录入。', id_number_masked)
            when 'bad_birth_date' then format('“{}”中的出生日期不存在：请按居民身份证重新录入。', id_number_masked)
            when 'bad_check_digit' then format('“{}”校验位（第 18 位）错误：请按居民身份证重新录入。', id_number_masked)
            when 'old_15_digit'
                then
                    format(
                        '“{}”是已停用的 15 位旧号码，已按升位后的“{}”识别本人：请换录为 18 位新号码。',
                        id_number_masked, id_number_18_masked
                    )
            else format('“{}”不是有效的 18 位号码：请按居民身份证重新录入。', coalesce(id_number_masked, ''))
        end || {{ disqualifying_reason('invalid_id_number') }} as detail,
        source_name,
        id_status,
        id_number_masked
    from person_rows
)

select * from final
