-- 报表多报: a progress report claims more trainee-times done than the real-name ledger shows
-- for the same county, programme and month (reconcile_reported_progress).
with compared as (
    select * from {{ ref('reconcile_reported_progress') }}
    where report_minus_ledger > 0
),

final as (
    select
        'report_overclaims_ledger' as check_name,
        'error' as severity,
        city_code,
        county_code,
        cast(null as varchar) as township,
        cast(null as varchar) as village,
        source_file,
        sheet,
        row_number,
        county_code || '/' || programme_code || '/' || strftime(report_month, '%Y-%m') as entity_key,
        programme_code,
        strftime(report_month, '%Y-%m') as period,
        report_month as as_of_month,
        format(
            '{} {} 年 {} 月进度报表{}已完成 {} 人次，实名制台账截至当月只有 {} 人次，多报 {} 人次：请按实名制台账更正报表，或补录台账中遗漏的学员。',
            coalesce(county_name_zh, county_code),
            year(report_month),
            month(report_month),
            programme_name_zh,
            reported_done,
            ledger_done,
            report_minus_ledger
        ) as detail,
        reported_done,
        ledger_done,
        report_minus_ledger,
        report_level
    from compared
)

select * from final
