-- 报表与台账差额分解: per county (and per township where the progress report has township rows)
-- × programme × report month, what the report claims done (reported_ytd) against the ledger's
-- trainee-times under the counting rule (enrolled_ytd), and the difference split into parts
-- that add up to it exactly. The parts explain a report above the ledger, in this order, each
-- at most what is left of the difference:
--   part_duplicates   ledger rows of the year up to the month the counting rule removed as
--                     repeats (duplicate_training), which the county may have counted;
--   part_not_counted  ledger rows of the county and programme the rule could not place
--                     (dq.ledger_record_outcomes not_counted: a start date blank, unreadable or
--                     out of range — undated rows count in every month);
--   part_timing       counted ledger records of a later month whose course had started by the
--                     day the report was filled in (填报日期, staging received_date; unknown: the
--                     5th of the next month, the on-time rule), which the report may have counted;
--   part_unexplained  the rest. A report below the ledger is unexplained as a whole: no part
--                     of the ledger can be missing from a report by the counting rule.
with reports as (
    -- the county's own row, else the sum of its townships' rows (the attainment marts' rule)
    select
        county_code,
        cast(null as varchar) as township,
        'county' as report_level,
        programme_code,
        report_month as month,
        reported_done as reported_ytd
    from {{ ref('int_reported_progress_monthly') }}
    union all
    select
        county_code,
        township_name as township,
        'township' as report_level,
        programme_code,
        report_month as month,
        reported_done as reported_ytd
    from {{ ref('fct_reported_progress') }}
    where report_level = 'township' and reported_done is not null and county_code is not null
),

received as (
    -- the day each county's report of the month was filled in; unknown: the 5th of the next month
    select
        county_code,
        report_month as month,
        max(received_date) as received_date
    from {{ ref('stg_progress_reports__reports') }}
    where not is_total_row and not is_superseded and county_code is not null and report_month is not null
    group by all
),

started_by_day as (
    select
        county_code,
        township_name as township,
        programme_code,
        start_date,
        count(*) as started
    from {{ ref('int_training_enrolments_deduplicated') }}
    where is_counted
    group by all
),

later_started as (
    -- counted records of a later month that had started when the report was filled in
    select
        reports.county_code,
        reports.township,
        reports.programme_code,
        reports.month,
        cast(sum(started_by_day.started) as integer) as later_month_records
    from reports
    left join received
        on reports.county_code = received.county_code and reports.month = received.month
    inner join started_by_day
        on
            reports.county_code = started_by_day.county_code
            and reports.programme_code = started_by_day.programme_code
            and (reports.report_level = 'county' or reports.township = started_by_day.township)
            and year(reports.month) = year(started_by_day.start_date)
            and started_by_day.start_date >= reports.month + interval 1 month
            and started_by_day.start_date
            <= coalesce(received.received_date, reports.month + interval 1 month + interval 4 day)
    group by all
),

outcomes as (
    select * from {{ ref('ledger_record_outcomes') }}
    where county_code is not null and programme_code is not null
),

monthly as (
    -- the ledger's rows by start month and outcome, small enough to join to every report row
    select
        county_code,
        township,
        programme_code,
        month,
        count(*) filter (where outcome = 'counted') as counted,
        count(*) filter (where outcome = 'duplicate') as duplicates,
        count(*) filter (where outcome = 'not_counted') as not_counted
    from outcomes
    where month is not null
    group by all
),

monthly_by_level as (
    -- what each level of report is matched with: a county's report all its townships' rows (no
    -- township to match), a township's report its own. As a join key rather than an OR in the
    -- join, which made the join below a nested loop (the model took 15.4 s at province scale,
    -- 0.6 s keyed)
    select
        'county' as report_level,
        cast(null as varchar) as report_township,
        *
    from monthly
    union all
    select
        'township' as report_level,
        township as report_township,
        *
    from monthly
    where township is not null
),

undated as (
    -- rows without a start date, per county (township NULL) and per township of the county
    select
        county_code,
        township,
        programme_code,
        grouping(township) = 1 as is_county_total,
        count(*) as not_counted
    from outcomes
    where month is null and outcome = 'not_counted'
    group by grouping sets ((county_code, programme_code), (county_code, township, programme_code))
),

measured as (
    select
        reports.county_code,
        reports.township,
        reports.report_level,
        reports.programme_code,
        reports.month,
        reports.reported_ytd,
        cast(coalesce(sum(monthly.counted) filter (where monthly.month <= reports.month), 0) as integer)
            as enrolled_ytd,
        cast(coalesce(sum(monthly.duplicates) filter (where monthly.month <= reports.month), 0) as integer)
            as duplicate_records,
        cast(coalesce(sum(monthly.not_counted) filter (where monthly.month <= reports.month), 0) as integer)
            as dated_not_counted
    from reports
    left join monthly_by_level as monthly
        on
            reports.county_code = monthly.county_code
            and reports.programme_code = monthly.programme_code
            and reports.report_level = monthly.report_level
            and reports.township is not distinct from monthly.report_township
            and year(reports.month) = year(monthly.month)
            and reports.month >= monthly.month
    group by all
),

with_undated as (
    select
        measured.* exclude (measured.dated_not_counted),
        measured.dated_not_counted + cast(coalesce(undated.not_counted, 0) as integer) as not_counted_records,
        coalesce(later_started.later_month_records, 0) as later_month_records,
        measured.reported_ytd - measured.enrolled_ytd as difference
    from measured
    left join later_started
        on
            measured.county_code = later_started.county_code
            and measured.township is not distinct from later_started.township
            and measured.programme_code = later_started.programme_code
            and measured.month = later_started.month
    left join undated
        on
            measured.county_code = undated.county_code
            and measured.programme_code = undated.programme_code
            and (measured.report_level = 'county') = undated.is_county_total
            and (undated.is_county_total or measured.township = undated.township)
),

split_duplicates as (
    select
        *,
        case when difference > 0 then least(duplicate_records, difference) else 0 end as part_duplicates
    from with_undated
),

split_not_counted as (
    select
        *,
        case
            when difference > 0 then least(not_counted_records, difference - part_duplicates) else 0
        end as part_not_counted
    from split_duplicates
),

split_timing as (
    select
        *,
        case
            when difference > 0 then least(later_month_records, difference - part_duplicates - part_not_counted)
            else 0
        end as part_timing
    from split_not_counted
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        split_timing.month,
        cast(year(split_timing.month) as integer) as year,
        counties.city_code,
        split_timing.county_code,
        split_timing.township,
        split_timing.report_level,
        split_timing.programme_code,
        cast(split_timing.reported_ytd as integer) as reported_ytd,
        split_timing.enrolled_ytd,
        cast(split_timing.difference as integer) as difference,
        cast(split_timing.part_duplicates as integer) as part_duplicates,
        cast(split_timing.part_not_counted as integer) as part_not_counted,
        cast(split_timing.part_timing as integer) as part_timing,
        cast(
            split_timing.difference - split_timing.part_duplicates - split_timing.part_not_counted
            - split_timing.part_timing
            as integer
        ) as part_unexplained,
        split_timing.duplicate_records,
        split_timing.not_counted_records,
        split_timing.later_month_records
    from split_timing
    left join counties on split_timing.county_code = counties.county_code
)

select * from final
