-- 进度报表未报送: a monthly progress report a county was expected to send (it has a task
-- allocation for the year, and the month is not after the province's reporting month) that
-- never arrived (marts.mart_reporting_completeness; the rule is in that model and docs/defects.md).
with missing as (
    select * from {{ ref('mart_reporting_completeness') }}
    where is_expected and not is_received
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        {{ dq_finding(
            'report_missing',
            township=none,
            village=none,
            source_file=none,
            sheet=none,
            row_number=none,
            entity_key="missing.county_code || '/' || strftime(missing.month, '%Y-%m')",
            programme_code=none,
            month='missing.month',
            city_code='missing.city_code',
            county_code='missing.county_code'
        ) }}
        format(
            '{} {} 年 {} 月进度报表（任务进度统计汇总表）未报送，应于 {} 前报送：请尽快报送，已报送的请核对文件是否放入进度报表文件夹。',
            coalesce(counties.county_name_zh, missing.county_code),
            year(missing.month),
            month(missing.month),
            strftime(missing.due_date, '%Y-%m-%d')
        ) as detail,
        missing.due_date
    from missing
    left join counties on missing.county_code = counties.county_code
)

select * from final
