-- One row per person per course (实名制培训台账), keyed pseudonymously. is_counted applies the
-- counting rule (one trainee-time per person × programme × year, by course start); is_duplicate
-- marks the repeats. Unresolved programme, institution, region or household point to the
-- UNKNOWN members of their dimensions; the row itself is never dropped. count_issue says why a
-- row the counting rule cannot place is not counted; is_valid is false when a check of
-- dq_disqualifying_checks (listed in disqualified_by) says the course cannot count toward the task.
{{ config(materialized='incremental', incremental_strategy='difference', unique_key='enrolment_key') }}

with enrolments as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
),

final as (
    select
        {{ readable_hash_key('enrolment', "source_file || '|' || sheet || '|' || row_number") }} as enrolment_key,
        trainee_key,
        coalesce(household_key, 'UNKNOWN') as household_key,
        coalesce(programme_code, 'UNKNOWN') as programme_code,
        coalesce(institution_key, 'UNKNOWN') as institution_key,
        region_key,
        city_code,
        county_code,
        trade,
        start_date,
        end_date,
        case
            when start_month between date '{{ var("first_month") }}' and date '{{ var("last_month") }}'
                then start_month
            else date '1900-01-01'
        end as start_month,
        start_year,
        duration_days,
        duration_hours,
        duration_in_unit,
        duration_unit,
        duration_status,
        completed,
        certified,
        certificate_level,
        transferred_to_job,
        subsidy_yuan,
        fund_source,
        trainee_satisfaction,
        {{ satisfaction_score('trainee_satisfaction') }} as trainee_satisfaction_score,
        employer_satisfaction,
        {{ satisfaction_score('employer_satisfaction') }} as employer_satisfaction_score,
        id_status,
        is_registered_member,
        is_on_roster,
        is_duplicate,
        is_counted,
        count_issue,
        is_valid,
        nullif(array_to_string(disqualified_by, ','), '') as disqualified_by
    from enrolments
)

select * from final
