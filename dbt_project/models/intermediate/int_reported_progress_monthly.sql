-- What the progress reports say a county has done (已完成, cumulative from January) per
-- programme and report month: the county's own row when it has one with a number, else the sum
-- of its townships' rows. The one place of that rule: the attainment marts' reported_ytd and the
-- report-vs-ledger reconciliation (dq.reconcile_reported_progress) both read it. Where it came
-- from: the county row, or the townships' file and sheet when they were all in one.
with reported as (
    select * from {{ ref('fct_reported_progress') }}
    where report_level in ('county', 'township') and reported_done is not null
),

county_rows as (
    select
        county_code,
        programme_code,
        report_month,
        reported_done,
        'county' as report_level,
        source_file,
        sheet,
        row_number
    from reported
    where report_level = 'county'
),

township_sums as (
    select
        county_code,
        programme_code,
        report_month,
        cast(sum(reported_done) as integer) as reported_done,
        'township' as report_level,
        case when count(distinct source_file) = 1 then min(source_file) end as source_file,
        case when count(distinct source_file) = 1 and count(distinct sheet) = 1 then min(sheet) end as sheet,
        cast(null as integer) as row_number
    from reported
    where report_level = 'township'
    group by county_code, programme_code, report_month
),

final as (
    select * from county_rows
    union all
    select township_sums.*
    from township_sums
    anti join county_rows
        on
            township_sums.county_code = county_rows.county_code
            and township_sums.programme_code = county_rows.programme_code
            and township_sums.report_month = county_rows.report_month
)

select * from final
