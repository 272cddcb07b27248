-- 培训机构资质过期: the course started after the institution's qualification ran out
-- (资质有效期至 in the roster).
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where not is_qualification_valid_at_start
),

final as (
    select
        'institution_qualification_expired' as check_name,
        'error' as severity,
        city_code,
        county_code,
        township_name as township,
        village_name as village,
        source_file,
        sheet,
        row_number,
        institution_key as entity_key,
        programme_code,
        strftime(start_month, '%Y-%m') as period,
        start_month as as_of_month,
        format(
            '{}的培训资质有效期至 {}，该{}班次 {} 开班时已过期 {} 天：过期后开办的培训不能计入任务，请核实。',
            roster_institution_name,
            strftime(qualification_valid_until, '%Y-%m-%d'),
            programme_name_zh,
            strftime(start_date, '%Y-%m-%d'),
            date_diff('day', qualification_valid_until, start_date)
        ) as detail,
        roster_institution_name as institution,
        qualification_valid_until,
        start_date
    from ledger_rows
)

select * from final
