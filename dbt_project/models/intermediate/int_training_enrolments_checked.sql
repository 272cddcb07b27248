-- Ledger rows (one per person per course) with the person resolved by ID, the institution
-- matched to the roster and the course length checked against the programme's minimum and
-- 1.5× maximum. Length: 培训天数 when stated, else end − start + 1 days; class hours (培训学时)
-- for UPSKILL. Month- and year-long programmes are checked in days (programmes.csv:
-- 3 months = 90 days, 2 years = 730 days), shown in their own unit in duration_in_unit.
{{ config(materialized='incremental', incremental_strategy='difference', unique_key=['source_file', 'sheet', 'row_number']) }}

with records as (
    select * from {{ ref('stg_training_ledgers__records') }}
),

ids as (
    select * from {{ ref('int_ledger_id_numbers_validated') }}
),

registered as (
    -- one registration per valid person: the latest
    select
        trainee_key,
        household_key,
        county_code as registered_county_code
    from {{ ref('int_household_members_resolved') }}
    where is_valid_id and is_latest_registration
),

institutions as (
    select * from {{ ref('int_institution_names_matched') }}
),

roster as (
    select * from {{ ref('int_institutions_deduplicated') }}
),

programmes as (
    select * from {{ ref('programmes') }}
),

joined as (
    select
        records.*,
        ids.id_format,
        coalesce(ids.id_status, 'missing') as id_status,
        coalesce(ids.is_valid_id, false) as is_valid_id,
        coalesce(ids.is_rounded_id, false) as is_rounded_id,
        ids.id_number_18,
        ids.id_region_code,
        ids.sex_from_id,
        ids.birth_date,
        coalesce(
            ids.person_key,
            {{ pseudonymous_key('record', "'training_records|' || records.source_file || '|' || records.sheet || '|' || records.row_number") }}
        ) as trainee_key,
        registered.trainee_key is not null as is_registered_member,
        registered.household_key,
        registered.registered_county_code,
        institutions.institution_key,
        institutions.match_kind as institution_match,
        coalesce(institutions.is_on_roster, false) as is_on_roster,
        case
            when records.institution_text is null then 'institution_missing'
            else institutions.institution_issue
        end as institution_issue,
        roster.institution_type,
        case
            when roster.institution_key is not null and records.trade is not null
                then coalesce(list_contains(roster.approved_trades, records.trade), false)
        end as is_trade_approved,
        case
            when roster.institution_key is not null and records.start_date is not null
                then roster.qualification_valid_until >= records.start_date
        end as is_qualification_valid_at_start,
        programmes.duration_unit,
        programmes.min_days,
        programmes.max_days,
        programmes.min_hours,
        programmes.max_hours,
        case
            when records.end_date >= records.start_date then date_diff('day', records.start_date, records.end_date) + 1
        end as days_from_dates
    from records
    left join ids on records.id_number is not distinct from ids.id_number
    left join registered on ids.person_key = registered.trainee_key
    left join institutions on records.institution_text = institutions.institution_text
    left join roster on institutions.institution_key = roster.institution_key
    left join programmes on records.programme_code = programmes.programme_code
),

measured as (
    select
        *,
        coalesce(stated_duration_days, days_from_dates) as duration_days,
        case
            when stated_duration_days is not null then 'stated_days'
            when days_from_dates is not null then 'dates'
        end as duration_days_source,
        stated_duration_hours as duration_hours,
        end_date < start_date as are_dates_inverted
    from joined
),

final as (
    select
        * exclude (min_days, max_days, min_hours, max_hours),
        {{ region_key('county_code', 'township_name', 'village_name') }} as region_key,
        year(start_date) as start_year,
        cast(date_trunc('month', start_date) as date) as start_month,
        case duration_unit
            when 'class_hour' then duration_hours
            when 'month' then round(duration_days / 30.0, 2)
            when 'year' then round(duration_days / 365.0, 2)
            else duration_days
        end as duration_in_unit,
        case
            when programme_code is null then 'no_programme'
            when duration_unit = 'class_hour' and duration_hours is null then 'unknown'
            when duration_unit = 'class_hour' and duration_hours < min_hours then 'too_short'
            when duration_unit = 'class_hour' and duration_hours > max_hours then 'too_long'
            when duration_unit = 'class_hour' then 'ok'
            when duration_days is null then 'unknown'
            when duration_days < min_days then 'too_short'
            when duration_days > max_days then 'too_long'
            else 'ok'
        end as duration_status,
        case when duration_unit = 'class_hour' then min_hours else min_days end as duration_minimum,
        case when duration_unit = 'class_hour' then max_hours else max_days end as duration_maximum,
        case when is_valid_id and county_code is not null then id_region_code = county_code end
            as id_matches_county
    from measured
)

select * from final
