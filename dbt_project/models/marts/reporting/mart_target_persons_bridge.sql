-- 培训对象人数差额到村: per county × township × village × year, the persons the township war map
-- plans to train in the village (培训对象人数) against the distinct persons the real-name
-- ledger trained there (by ID number as written, the rule of dq.reconcile_target_persons), so
-- a township's war-map-vs-ledger difference is located to its villages. The progress report
-- gives persons per township only: its number (the largest of the year's months) and its
-- difference from the township's ledger persons sit on every village row of the township.
with war_map_rows as (
    {{ war_map_village_rows() }}
),

ledger_rows as (
    select
        county_code,
        township_name,
        village_name,
        cast(start_year as integer) as year,
        coalesce(id_number_18, id_number, trainee_key) as person
    from {{ ref('int_training_enrolments_checked') }}
    where county_code is not null and start_year is not null
),

villages as (
    select
        county_code,
        township_name,
        village_name,
        year,
        cast(count(distinct person) as integer) as ledger_persons
    from ledger_rows
    group by all
),

townships as (
    select
        county_code,
        township_name,
        year,
        cast(count(distinct person) as integer) as township_ledger_persons
    from ledger_rows
    group by all
),

reports as (
    select
        county_code,
        township_name,
        cast(year(report_month) as integer) as year,
        cast(max(target_persons) as integer) as township_report_persons
    from {{ ref('stg_progress_reports__reports') }}
    where
        not is_total_row
        and not is_superseded
        and report_level = 'township'
        and county_code is not null
        and report_month is not null
        and target_persons is not null
    group by all
),

planned as (
    select
        county_code,
        township_name,
        village_name,
        cast(plan_year as integer) as year,
        cast(target_persons as integer) as war_map_persons
    from war_map_rows
),

places as (
    select
        county_code,
        township_name,
        village_name,
        year
    from planned
    union
    select
        county_code,
        township_name,
        village_name,
        year
    from villages
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        places.year,
        counties.city_code,
        places.county_code,
        places.township_name as township,
        places.village_name as village,
        planned.war_map_persons,
        coalesce(villages.ledger_persons, 0) as ledger_persons,
        coalesce(planned.war_map_persons, 0) - coalesce(villages.ledger_persons, 0) as war_map_minus_ledger,
        coalesce(townships.township_ledger_persons, 0) as township_ledger_persons,
        reports.township_report_persons,
        reports.township_report_persons - coalesce(townships.township_ledger_persons, 0)
            as township_report_minus_ledger
    from places
    left join planned
        on
            places.county_code = planned.county_code
            and places.township_name is not distinct from planned.township_name
            and places.village_name is not distinct from planned.village_name
            and places.year = planned.year
    left join villages
        on
            places.county_code = villages.county_code
            and places.township_name is not distinct from villages.township_name
            and places.village_name is not distinct from villages.village_name
            and places.year = villages.year
    left join townships
        on
            places.county_code = townships.county_code
            and places.township_name is not distinct from townships.township_name
            and places.year = townships.year
    left join reports
        on
            places.county_code = reports.county_code
            and places.township_name is not distinct from reports.township_name
            and places.year = reports.year
    left join counties on places.county_code = counties.county_code
)

select * from final
