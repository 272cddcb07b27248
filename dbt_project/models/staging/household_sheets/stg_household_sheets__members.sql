-- Household collection sheet (户级采集表): one row per household member, typed and with
-- GB/T 2260 codes. Holds names and ID numbers: staging only, never marts.
with source as (
    select * from {{ source('raw', 'household_members') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        {{ clean_place_name('city') }} as city_name,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_place_name('township') }} as township_name,
        {{ clean_place_name('village') }} as village_name,
        {{ clean_text('household_number') }} as household_number,
        {{ clean_text('head_name') }} as head_name,
        {{ clean_text('member_name') }} as member_name,
        {{ clean_text('relation_to_head') }} as relation_to_head,
        {{ clean_id_number('id_number') }} as id_number,
        {{ canonical_sex('trim(sex)') }} as sex,
        {{ clean_text('ethnicity') }} as ethnicity,
        {{ clean_text('education') }} as education,
        {{ clean_text('labour_category') }} as labour_category_text,
        {{ canonical_labour_category(clean_text('labour_category')) }} as labour_category,
        {{ canonical_employment_status(clean_text('employment_status')) }} as employment_status,
        {{ clean_text('skill_level') }} as skill_level,
        {{ to_yes_no('has_training_need') }} as has_training_need,
        {{ clean_text('training_need') }} as training_need,
        {{ clean_text('desired_trade') }} as desired_trade,
        {{ to_yes_no('has_certificate') }} as has_certificate,
        {{ to_date('collected_on') }} as collected_on,
        ingested_at
    from source
),

resolved as (
    {{ resolve_region('renamed', 'county_name', 'city_name') }}
)

select * from resolved
