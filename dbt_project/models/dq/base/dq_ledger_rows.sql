{{ config(materialized='ephemeral') }}
-- Ledger rows (实名制培训台账, one per person per course) with everything the course and
-- institution checks say about them, in words an official reads. Ephemeral: no table.
with enrolments as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
),

programmes as (
    select * from {{ ref('programmes') }}
),

roster as (
    select * from {{ ref('int_institutions_deduplicated') }}
),

final as (
    select
        enrolments.source_file,
        enrolments.sheet,
        enrolments.row_number,
        enrolments.city_code,
        enrolments.county_code,
        enrolments.township_name,
        enrolments.village_name,
        enrolments.trainee_key,
        enrolments.programme_code,
        coalesce(programmes.name_zh, enrolments.programme_name) as programme_name_zh,
        enrolments.start_date,
        enrolments.end_date,
        enrolments.start_year,
        enrolments.start_month,
        enrolments.duration_unit,
        enrolments.duration_days,
        enrolments.duration_hours,
        enrolments.duration_status,
        enrolments.duration_minimum,
        enrolments.duration_maximum,
        programmes.min_duration as standard_duration,
        enrolments.trade,
        enrolments.institution_text,
        -- an institution written by its 18-character code is masked like an ID: such codes
        -- can be all digits and would look like an ID number in published tables
        case
            when regexp_full_match(enrolments.institution_text, '[0-9A-Z]{18}')
                then left(enrolments.institution_text, 6) || '********' || right(enrolments.institution_text, 4)
            else enrolments.institution_text
        end as institution_text_shown,
        enrolments.institution_key,
        enrolments.institution_issue,
        enrolments.is_on_roster,
        enrolments.is_trade_approved,
        enrolments.is_qualification_valid_at_start,
        roster.institution_name as roster_institution_name,
        roster.qualification_valid_until,
        enrolments.is_duplicate,
        enrolments.duplicate_of_source_file,
        enrolments.duplicate_of_sheet,
        enrolments.duplicate_of_row_number
    from enrolments
    left join programmes on enrolments.programme_code = programmes.programme_code
    left join roster on enrolments.institution_key = roster.institution_key
)

select * from final
