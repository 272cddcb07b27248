-- 培训时长超标: a course longer than 1.5 × its programme's standard duration, the most the
-- province allows (DOMAIN.md), usually a wrong end date or a padded course.
-- Length: 培训天数 when stated, else end − start + 1 days; class hours for UPSKILL.
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where duration_status = 'too_long'
),

measured as (
    select
        *,
        case when duration_unit = 'class_hour' then duration_hours else duration_days end as course_length,
        case when duration_unit = 'class_hour' then '学时' else '天' end as length_unit_zh,
        cast(floor(duration_maximum) as integer) as allowed_bound
    from ledger_rows
),

final as (
    select
        'course_too_long' as check_name,
        'error' as severity,
        city_code,
        county_code,
        township_name as township,
        village_name as village,
        source_file,
        sheet,
        row_number,
        trainee_key as entity_key,
        programme_code,
        strftime(start_month, '%Y-%m') as period,
        start_month as as_of_month,
        format(
            '{}班次时长 {} {}，超过最长 {} {}（开班 {}，结业 {}）：请核实培训时长，超过标准 1.5 倍的班次须说明原因。',
            coalesce(programme_name_zh, '培训项目未填的'),
            coalesce(cast(course_length as varchar), '未填'),
            length_unit_zh,
            coalesce(cast(allowed_bound as varchar), '未知'),
            length_unit_zh,
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填'),
            coalesce(strftime(end_date, '%Y-%m-%d'), '未填')
        ) || {{ disqualifying_reason('course_too_long') }} as detail,
        course_length,
        length_unit_zh as length_unit,
        cast(ceil(duration_minimum) as integer) as minimum_length,
        cast(floor(duration_maximum) as integer) as maximum_length,
        start_date,
        end_date
    from measured
)

select * from final
