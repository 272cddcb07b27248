-- Monthly target attainment (任务完成进度) per county × programme: every month of every year
-- a county has an allocation for the programme, even months with no course. Trainee-times
-- (人次) are counted by course start month under the counting rule (fct is_counted); the
-- pro-rata line expects month/12 of the annual target by the month's end. A county whose
-- ledger counts trainee-times for a year and programme it has no allocation for still has its
-- rows here (annual_target and rates NULL; check no_task_allocated), so the city and province
-- totals hold every counted record. valid_* leave out counted rows whose course a check of
-- dq_disqualifying_checks says cannot count toward the task (fct is_valid).
with targets as (
    select
        year,
        city_code,
        county_code,
        programme_code,
        allocated_trainee_times as annual_target
    from {{ ref('fct_task_allocations') }}
    where county_code != 'UNKNOWN'
),

counted_enrolments as (
    select * from {{ ref('fct_training_enrolments') }}
    where is_counted
),

untasked as (
    -- county × programme × year with counted trainee-times but no allocation
    select distinct
        cast(enrolments.start_year as integer) as year,
        enrolments.city_code,
        enrolments.county_code,
        enrolments.programme_code,
        cast(null as integer) as annual_target
    from counted_enrolments as enrolments
    anti join targets
        on
            enrolments.county_code = targets.county_code
            and enrolments.programme_code = targets.programme_code
            and enrolments.start_year = targets.year
),

tasks as (
    select * from targets
    union all
    select * from untasked
),

programmes as (
    select
        programme_code,
        programme_name_zh
    from {{ ref('dim_programme') }}
),

months as (
    select * from {{ ref('dim_month') }}
    where not is_unknown
),

counties as (
    select
        region_code as county_code,
        county_name,
        city_name
    from {{ ref('dim_region') }}
    where region_level = 'county'
),

enrolled as (
    select
        county_code,
        programme_code,
        start_month as month,
        count(*) as enrolled_in_month,
        count(*) filter (where is_valid) as valid_in_month
    from counted_enrolments
    group by county_code, programme_code, start_month
),

reports as (
    -- a county's own row when it reported, else the sum of its townships' rows
    select
        county_code,
        programme_code,
        report_month as month,
        reported_done
    from {{ ref('int_reported_progress_monthly') }}
),

spine as (
    select
        months.month,
        months.year,
        months.month_number,
        months.expected_rate,
        tasks.city_code,
        tasks.county_code,
        tasks.programme_code,
        tasks.annual_target
    from tasks
    inner join months on tasks.year = months.year
),

counted as (
    select
        spine.*,
        coalesce(enrolled.enrolled_in_month, 0) as enrolled_in_month,
        sum(coalesce(enrolled.enrolled_in_month, 0)) over (
            partition by spine.county_code, spine.programme_code, spine.year
            order by spine.month
            rows between unbounded preceding and current row
        ) as enrolled_ytd,
        sum(coalesce(enrolled.valid_in_month, 0)) over (
            partition by spine.county_code, spine.programme_code, spine.year
            order by spine.month
            rows between unbounded preceding and current row
        ) as valid_enrolled_ytd,
        reports.reported_done as reported_ytd
    from spine
    left join enrolled
        on
            spine.county_code = enrolled.county_code
            and spine.programme_code = enrolled.programme_code
            and spine.month = enrolled.month
    left join reports
        on
            spine.county_code = reports.county_code
            and spine.programme_code = reports.programme_code
            and spine.month = reports.month
),

final as (
    select
        counted.month,
        cast(counted.year as integer) as year,
        counted.city_code,
        counties.city_name,
        counted.county_code,
        counties.county_name,
        counted.programme_code,
        programmes.programme_name_zh,
        counted.annual_target,
        cast(counted.enrolled_in_month as integer) as enrolled_in_month,
        cast(counted.enrolled_ytd as integer) as enrolled_ytd,
        {{ attainment('rate', 'counted.enrolled_ytd', target='counted.annual_target') }} as attainment_rate,
        counted.expected_rate,
        {{ attainment(
            'gap', 'counted.enrolled_ytd', target='counted.annual_target', month_number='counted.month_number'
        ) }} as gap,
        counted.reported_ytd,
        {{ attainment('report_minus_ledger', 'counted.enrolled_ytd', reported='counted.reported_ytd') }} as report_minus_ledger,
        cast(counted.valid_enrolled_ytd as integer) as valid_enrolled_ytd,
        {{ attainment('rate', 'counted.valid_enrolled_ytd', target='counted.annual_target') }} as valid_attainment_rate,
        {{ attainment(
            'gap', 'counted.valid_enrolled_ytd', target='counted.annual_target', month_number='counted.month_number'
        ) }} as valid_gap
    from counted
    left join counties on counted.county_code = counties.county_code
    left join programmes on counted.programme_code = programmes.programme_code
)

select * from final
