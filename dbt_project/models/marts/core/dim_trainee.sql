-- Persons (学员 / 家庭成员) by pseudonymous trainee_key: no name, no ID number, only what the
-- analyses need. A person with a valid ID is one row wherever the ID appears; a row with an
-- invalid or rounded ID is a person of its own (is_identified false).
{{ config(materialized='incremental', incremental_strategy='difference', unique_key='trainee_key') }}

with persons as (
    select * from {{ ref('int_persons_resolved') }}
),

known as (
    select
        trainee_key,
        id_status,
        is_valid_id as is_identified,
        is_registered_member,
        first_seen_in,
        sex,
        birth_year,
        coalesce(household_key, 'UNKNOWN') as household_key,
        region_key,
        city_code,
        county_code,
        labour_category,
        education,
        employment_status,
        skill_level,
        has_training_need,
        has_certificate,
        false as is_unknown
    from persons
),

unknown as (
    select
        'UNKNOWN' as trainee_key,
        'missing' as id_status,
        false as is_identified,
        false as is_registered_member,
        null as first_seen_in,
        null as sex,
        null as birth_year,
        'UNKNOWN' as household_key,
        'UNKNOWN' as region_key,
        null as city_code,
        null as county_code,
        null as labour_category,
        null as education,
        null as employment_status,
        null as skill_level,
        null as has_training_need,
        null as has_certificate,
        true as is_unknown
)

select * from known
union all
select * from unknown
