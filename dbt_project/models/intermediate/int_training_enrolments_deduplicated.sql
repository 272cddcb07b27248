-- The counting rule (计数规则): trainee-times (人次) count once per person × programme × year
-- of the course start. A repeat of the same person in the same programme and year is padding
-- (重复培训): the first course by start date, then by sheet row, counts; the others are flagged.
-- Persons whose ID is invalid or rounded carry a key of their own row, so they are never
-- taken for repeats of someone else. A row counts only when it can be placed in a mart cell:
-- a recognised programme (unknown_programme), a start date inside the warehouse's months
-- (missing_start_date) and a resolved county (unknown_region); count_issue says which failed.
-- A row that cannot be placed never hides a later placeable course of the same person.
-- row_checks lists every ledger-row check that fires on the row (the same rules as the
-- models in models/dq/records); disqualified_by keeps those in dq_disqualifying_checks.
{{ config(materialized='incremental', incremental_strategy='difference', unique_key=['source_file', 'sheet', 'row_number']) }}

with enrolments as (
    select * from {{ ref('int_training_enrolments_checked') }}
),

disqualifying as (
    select list(check_name order by check_name) as check_names
    from {{ ref('dq_disqualifying_checks') }}
),

placed as (
    select
        *,
        case
            when programme_code is null then 'unknown_programme'
            when
                start_date is null
                or start_month not between date '{{ var("first_month") }}' and date '{{ var("last_month") }}'
                then 'missing_start_date'
            when county_code is null then 'unknown_region'
        end as count_issue
    from enrolments
),

ranked as (
    select
        *,
        case
            when programme_code is not null and start_date is not null
                then row_number() over first_course
        end as repeat_rank,
        first_value(source_file) over first_course as first_source_file,
        first_value(sheet) over first_course as first_sheet,
        first_value(row_number) over first_course as first_row_number
    from placed
    window first_course as (
        partition by trainee_key, programme_code, start_year
        order by count_issue is not null, start_date, source_file, sheet, row_number
    )
),

flagged as (
    select
        * exclude (first_source_file, first_sheet, first_row_number),
        coalesce(repeat_rank > 1, false) as is_duplicate,
        coalesce(repeat_rank = 1 and count_issue is null, false) as is_counted,
        case when repeat_rank > 1 then first_source_file end as duplicate_of_source_file,
        case when repeat_rank > 1 then first_sheet end as duplicate_of_sheet,
        case when repeat_rank > 1 then first_row_number end as duplicate_of_row_number
    from ranked
),

checked as (
    select
        *,
        list_filter(
            [
                case when duration_status = 'too_short' then 'course_too_short' end,
                case when duration_status = 'too_long' then 'course_too_long' end,
                case when is_duplicate then 'duplicate_training' end,
                case when id_status not in ('valid', 'rounded') then 'invalid_id_number' end,
                case when id_status = 'rounded' then 'rounded_id_number' end,
                case when is_valid_id and id_region_code != county_code then 'id_region_mismatch' end,
                case when is_valid_id and not is_registered_member then 'trainee_not_registered' end,
                case
                    when
                        institution_issue in (
                            'institution_not_on_roster', 'institution_missing', 'institution_name_ambiguous'
                        )
                        then 'institution_not_on_roster'
                end,
                case when not is_trade_approved then 'trade_not_approved' end,
                case when not is_qualification_valid_at_start then 'institution_qualification_expired' end,
                case when programme_code is null then 'unknown_programme' end,
                case
                    when
                        start_date is null
                        or start_month not between date '{{ var("first_month") }}' and date '{{ var("last_month") }}'
                        then 'missing_start_date'
                end,
                case when county_code is null then 'unknown_region' end
            ],
            check_name -> check_name is not null
        ) as row_checks
    from flagged
)

select
    checked.*,
    list_filter(checked.row_checks, check_name -> list_contains(disqualifying.check_names, check_name))
        as disqualified_by,
    not list_has_any(checked.row_checks, disqualifying.check_names) as is_valid
from checked
cross join disqualifying
