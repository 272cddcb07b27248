-- 培训对象人数核对: per township and year, the persons the township war map plans to train
-- (培训对象人数, summed over its villages), the distinct persons the real-name ledger trained
-- (by ID number as written), and the number each month's progress report gives. One row per
-- township and year that any of the three names; is_mismatch when the war map or any month's
-- report disagrees with the ledger. war_map_row_number: the first village row of the war map
-- whose 培训对象人数 differs from the persons its village trained (the row to correct).
with war_map_rows as (
    {{ war_map_village_rows() }}
),

war_maps as (
    select
        county_code,
        township_name,
        plan_year as year,
        cast(sum(target_persons) as integer) as war_map_persons,
        min(source_file) as war_map_source_file,
        min(sheet) as war_map_sheet,
        count(distinct source_file) as war_map_files
    from war_map_rows
    group by county_code, township_name, plan_year
),

ledger as (
    select
        county_code,
        township_name,
        start_year as year,
        cast(count(distinct coalesce(id_number_18, id_number, trainee_key)) as integer) as ledger_persons
    from {{ ref('int_training_enrolments_checked') }}
    where county_code is not null and start_year is not null
    group by county_code, township_name, start_year
),

village_ledger as (
    select
        county_code,
        township_name,
        village_name,
        start_year as year,
        cast(count(distinct coalesce(id_number_18, id_number, trainee_key)) as integer) as ledger_persons
    from {{ ref('int_training_enrolments_checked') }}
    where county_code is not null and start_year is not null
    group by all
),

disagreeing_villages as (
    -- the war-map row to correct: the first village row (file, sheet, row) whose 培训对象人数
    -- differs from the distinct persons its village trained
    select
        war_map_rows.county_code,
        war_map_rows.township_name,
        war_map_rows.plan_year as year,
        war_map_rows.village_name,
        war_map_rows.target_persons,
        coalesce(village_ledger.ledger_persons, 0) as village_ledger_persons,
        war_map_rows.source_file,
        war_map_rows.sheet,
        war_map_rows.row_number
    from war_map_rows
    left join village_ledger
        on
            war_map_rows.county_code = village_ledger.county_code
            and war_map_rows.township_name is not distinct from village_ledger.township_name
            and war_map_rows.village_name is not distinct from village_ledger.village_name
            and war_map_rows.plan_year = village_ledger.year
    where war_map_rows.target_persons is distinct from coalesce(village_ledger.ledger_persons, 0)
    qualify row_number() over (
        partition by war_map_rows.county_code, war_map_rows.township_name, war_map_rows.plan_year
        order by war_map_rows.source_file, war_map_rows.sheet, war_map_rows.row_number
    ) = 1
),

report_rows as (
    select
        county_code,
        township_name,
        year(report_month) as year,
        report_month,
        target_persons,
        source_file,
        sheet,
        row_number
    from {{ ref('stg_progress_reports__reports') }}
    where
        not is_total_row
        and report_level = 'township'
        and county_code is not null
        and report_month is not null
        and target_persons is not null
        -- a month reported twice: the winning submission only (see rank_submissions)
        and not is_superseded
),

places as (
    select
        county_code,
        township_name,
        year
    from war_maps
    union
    select
        county_code,
        township_name,
        year
    from ledger
    union
    select
        county_code,
        township_name,
        year
    from report_rows
),

compared_reports as (
    select
        report_rows.*,
        report_rows.target_persons - coalesce(ledger.ledger_persons, 0) as report_minus_ledger
    from report_rows
    left join ledger
        on
            report_rows.county_code = ledger.county_code
            and report_rows.township_name is not distinct from ledger.township_name
            and report_rows.year = ledger.year
),

reports as (
    select
        county_code,
        township_name,
        year,
        count(*) as report_months,
        count(*) filter (where report_minus_ledger != 0) as report_months_disagreeing,
        string_agg(
            format('{}月 {} 人', month(report_month), target_persons), '、' order by report_month
        ) filter (where report_minus_ledger != 0) as disagreeing_reports_zh,
        min(target_persons) as report_persons_min,
        max(target_persons) as report_persons_max,
        -- the first month that disagrees: where an official starts looking
        arg_min(report_month, report_month) filter (where report_minus_ledger != 0) as first_disagreeing_month,
        arg_min(report_minus_ledger, report_month) filter (where report_minus_ledger != 0)
            as first_report_minus_ledger,
        arg_min(source_file, report_month) filter (where report_minus_ledger != 0) as report_source_file,
        arg_min(sheet, report_month) filter (where report_minus_ledger != 0) as report_sheet,
        arg_min(row_number, report_month) filter (where report_minus_ledger != 0) as report_row_number
    from compared_reports
    group by county_code, township_name, year
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        counties.city_code,
        places.county_code,
        counties.county_name_zh,
        places.township_name,
        cast(places.year as integer) as year,
        coalesce(war_maps.war_map_persons, 0) as war_map_persons,
        coalesce(ledger.ledger_persons, 0) as ledger_persons,
        reports.report_persons_min,
        reports.report_persons_max,
        coalesce(reports.report_months, 0) as report_months,
        coalesce(reports.report_months_disagreeing, 0) as report_months_disagreeing,
        reports.disagreeing_reports_zh,
        coalesce(war_maps.war_map_persons, 0) - coalesce(ledger.ledger_persons, 0) as war_map_minus_ledger,
        reports.first_disagreeing_month,
        reports.first_report_minus_ledger,
        coalesce(disagreeing_villages.source_file, war_maps.war_map_source_file) as war_map_source_file,
        coalesce(disagreeing_villages.sheet, war_maps.war_map_sheet) as war_map_sheet,
        disagreeing_villages.row_number as war_map_row_number,
        disagreeing_villages.village_name as war_map_village,
        disagreeing_villages.target_persons as war_map_village_persons,
        disagreeing_villages.village_ledger_persons as war_map_village_ledger_persons,
        reports.report_source_file,
        reports.report_sheet,
        reports.report_row_number,
        coalesce(war_maps.war_map_persons, 0) != coalesce(ledger.ledger_persons, 0)
        or coalesce(reports.report_months_disagreeing, 0) > 0 as is_mismatch
    from places
    left join war_maps
        on
            places.county_code = war_maps.county_code
            and places.township_name is not distinct from war_maps.township_name
            and places.year = war_maps.year
    left join ledger
        on
            places.county_code = ledger.county_code
            and places.township_name is not distinct from ledger.township_name
            and places.year = ledger.year
    left join reports
        on
            places.county_code = reports.county_code
            and places.township_name is not distinct from reports.township_name
            and places.year = reports.year
    left join disagreeing_villages
        on
            places.county_code = disagreeing_villages.county_code
            and places.township_name is not distinct from disagreeing_villages.township_name
            and places.year = disagreeing_villages.year
    left join counties on places.county_code = counties.county_code
)

select * from final
