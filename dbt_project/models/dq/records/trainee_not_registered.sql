-- 学员未建档立卡: a ledger row whose valid ID (an old 15-digit one upgraded to 18 characters
-- first) appears on no household sheet, so the
-- training cannot be tied to a registered poor household. Rows with an invalid or rounded ID
-- are left to those checks: whether such a person is registered cannot be known.
with person_rows as (
    select * from {{ ref('dq_person_rows') }}
    where source_name = 'training_records' and is_valid_id and not is_registered_member
),

final as (
    select
        {{ dq_finding('trainee_not_registered', programme_code=none, month='as_of_month') }}
        format(
            '培训台账中的学员（身份证号码“{}”）不在任何户级采集表中：请核实其是否为建档立卡贫困人口，'
            || '是则补录户级采集表。',
            coalesce(id_number_masked, '未填')
        ) || {{ disqualifying_reason('trainee_not_registered') }} as detail,
        source_name,
        id_number_masked
    from person_rows
)

select * from final
