-- Checks that come in mirror pairs: the same rows, the same finding, only the direction differs.
-- One macro a pair; each model of the pair is one call (models/dq).

-- report_overclaims_ledger / report_underclaims_ledger: a progress report's 已完成 above or
-- below the ledger's trainee-times for the county, programme and month (reconcile_reported_progress).
-- direction: 'over' | 'under'.
{% macro report_vs_ledger_finding(check_name, direction) %}
{%- set over = direction == 'over' %}
with compared as (
    -- the difference's parts, largest first, from the county row of the gap bridge
    select
        reconciled.*,
        {{ gap_parts_zh('bridge.') }} as gap_parts_zh
    from {{ ref('reconcile_reported_progress') }} as reconciled
    left join {{ ref('mart_report_gap_bridge') }} as bridge
        on
            reconciled.county_code = bridge.county_code
            and reconciled.programme_code = bridge.programme_code
            and reconciled.report_month = bridge.month
            and bridge.report_level = 'county'
    where reconciled.report_minus_ledger {{ '>' if over else '<' }} 0
),

final as (
    select
        {{ dq_finding(
            check_name,
            township=none,
            village=none,
            entity_key="county_code || '/' || programme_code || '/' || strftime(report_month, '%Y-%m')",
            month='report_month'
        ) }}
        format(
            '{} {} 年 {} 月进度报表{}已完成 {} 人次，实名制台账截至当月只有 {} 人次，{} {} 人次{}：'
            || '{{ "请按实名制台账更正报表，或补录台账中遗漏的学员。" if over else "请核对报表是否漏报，或台账中是否有不应计入的记录。" }}',
            coalesce(county_name_zh, county_code),
            year(report_month),
            month(report_month),
            programme_name_zh,
            reported_done,
            ledger_done,
            '{{ "多报" if over else "少报" }}',
            {{ 'report_minus_ledger' if over else '-report_minus_ledger' }},
            coalesce('（' || gap_parts_zh || '）', '')
        ) as detail,
        reported_done,
        ledger_done,
        report_minus_ledger,
        report_level
    from compared
)

select * from final
{% endmacro %}

-- course_too_short / course_too_long: a course outside its programme's bounds (dq_ledger_rows'
-- duration_status; docs/domain.md). Length: 培训天数 when stated, else end − start + 1 days; class
-- hours for UPSKILL. direction: 'short' | 'long'.
{% macro course_length_finding(check_name, direction) %}
{%- set short = direction == 'short' %}
with ledger_rows as (
    select * from {{ ref('dq_ledger_rows') }}
    where duration_status = '{{ "too_short" if short else "too_long" }}'
),

measured as (
    select
        *,
        case when duration_unit = 'class_hour' then duration_hours else duration_days end as course_length,
        case when duration_unit = 'class_hour' then '学时' else '天' end as length_unit_zh,
        {{ 'cast(ceil(duration_minimum) as integer)' if short else 'cast(floor(duration_maximum) as integer)' }}
            as allowed_bound
    from ledger_rows
),

final as (
    select
        {{ dq_finding(check_name) }}
        format(
            '{}班次时长 {} {}，{} {} {}（开班 {}，结业 {}）：请核实培训时长'
            || '{{ "。" if short else "，超过标准 1.5 倍的班次须说明原因。" }}',
            coalesce(programme_name_zh, '培训项目未填的'),
            coalesce(cast(course_length as varchar), '未填'),
            length_unit_zh,
            '{{ "少于最短" if short else "超过最长" }}',
            coalesce(cast(allowed_bound as varchar), '未知'),
            length_unit_zh,
            coalesce(strftime(start_date, '%Y-%m-%d'), '未填'),
            coalesce(strftime(end_date, '%Y-%m-%d'), '未填')
        ) || {{ disqualifying_reason(check_name) }} as detail,
        course_length,
        length_unit_zh as length_unit,
        cast(ceil(duration_minimum) as integer) as minimum_length,
        cast(floor(duration_maximum) as integer) as maximum_length,
        start_date,
        end_date
    from measured
)

select * from final
{% endmacro %}
