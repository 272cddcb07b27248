-- One row per person (trainee_key): everyone registered in a household sheet, plus everyone
-- trained whose ID is not registered. A valid ID is one person wherever it appears; each row
-- with an invalid or rounded ID is a person of its own (never merged by guess).
{{ config(materialized='view') }}

with members as (
    select * from {{ ref('int_household_members_resolved') }}
    where is_latest_registration
),

enrolments as (
    select * from {{ ref('int_training_enrolments_checked') }}
),

registered as (
    select
        trainee_key,
        'household_members' as first_seen_in,
        true as is_registered_member,
        id_status,
        is_valid_id,
        id_number_18,
        member_name as person_name,
        coalesce(sex_from_id, sex) as sex,
        year(birth_date) as birth_year,
        household_key,
        region_key,
        city_code,
        county_code,
        labour_category,
        education,
        employment_status,
        skill_level,
        has_training_need,
        has_certificate,
        source_file,
        sheet,
        row_number
    from members
),

trained_only as (
    select
        trainee_key,
        'training_records' as first_seen_in,
        false as is_registered_member,
        id_status,
        is_valid_id,
        id_number_18,
        trainee_name as person_name,
        sex_from_id as sex,
        year(birth_date) as birth_year,
        cast(null as varchar) as household_key,
        region_key,
        city_code,
        county_code,
        cast(null as varchar) as labour_category,
        cast(null as varchar) as education,
        cast(null as varchar) as employment_status,
        cast(null as varchar) as skill_level,
        cast(null as boolean) as has_training_need,
        cast(null as boolean) as has_certificate,
        source_file,
        sheet,
        row_number
    from enrolments
    where not is_registered_member
    qualify row_number() over (
        partition by trainee_key
        order by start_date nulls last, source_file, sheet, row_number
    ) = 1
),

final as (
    select * from registered
    union all
    select * from trained_only
)

select * from final
