-- 进度报表与台账核对: per county, programme and report month, the trainee-times done so far as
-- the progress report says (已完成, cumulative from January: the county's own row, else the
-- sum of its townships' rows) against what the real-name ledger counts up to that month under
-- the counting rule (one per person × programme × year, in the month of the first course).
with reports as (
    -- the county's own row, else the sum of its townships' rows
    select * from {{ ref('int_reported_progress_monthly') }}
),

counted as (
    select
        county_code,
        programme_code,
        start_month,
        count(*) as started
    from {{ ref('int_training_enrolments_deduplicated') }}
    where is_counted and county_code is not null
    group by county_code, programme_code, start_month
),

compared as (
    -- the ledger's trainee-times from January up to the report's month
    select
        reports.*,
        cast(coalesce(sum(counted.started), 0) as integer) as ledger_done
    from reports
    left join counted
        on
            reports.county_code = counted.county_code
            and reports.programme_code = counted.programme_code
            and year(reports.report_month) = year(counted.start_month)
            and reports.report_month >= counted.start_month
    group by all
),

counties as (
    {{ county_lookup() }}
),

programmes as (
    select
        programme_code,
        name_zh as programme_name_zh
    from {{ ref('programmes') }}
),

final as (
    select
        counties.city_code,
        compared.county_code,
        counties.county_name_zh,
        compared.programme_code,
        programmes.programme_name_zh,
        compared.report_month,
        compared.report_level,
        compared.reported_done,
        compared.ledger_done,
        {{ attainment('report_minus_ledger', 'compared.ledger_done', reported='compared.reported_done') }}
            as report_minus_ledger,
        compared.source_file,
        compared.sheet,
        compared.row_number
    from compared
    left join counties on compared.county_code = counties.county_code
    left join programmes on compared.programme_code = programmes.programme_code
)

select * from final
