-- 培训时长不足: a course shorter than its programme's minimum (DOMAIN.md: 15 days, 2 years, 3 months,
-- 7 days, 10 days, 80 class hours, 10 days). Such a course does not count towards the task.
-- Length: 培训天数 when stated, else end − start + 1 days; class hours for UPSKILL.
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where duration_status = 'too_short'
),

measured as (
    select
        *,
        case when duration_unit = 'class_hour' then duration_hours else duration_days end as course_length,
        case when duration_unit = 'class_hour' then '学时' else '天' end as length_unit_zh,
        cast(ceil(duration_minimum) as integer) as allowed_bound
    from ledger_rows
),

final as (
    select
        'course_too_short' as check_name,
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
            '{}班次时长 {} {}，少于最短 {} {}（开班 {}，结业 {}）：请核实培训时长。',
            coalesce(programme_name_zh, '培训项目未填的'),
            coalesce(cast(course_length as varchar), '未填'),
            length_unit_zh,
            coalesce(cast(allowed_bound as varchar), '未知'),
            length_unit_zh,
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填'),
            coalesce(strftime(end_date, '%Y-%m-%d'), '未填')
        ) || {{ disqualifying_reason('course_too_short') }} as detail,
        course_length,
        length_unit_zh as length_unit,
        cast(ceil(duration_minimum) as integer) as minimum_length,
        cast(floor(duration_maximum) as integer) as maximum_length,
        start_date,
        end_date
    from measured
)

select * from final
