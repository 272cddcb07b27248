-- Real-name training ledger (实名制培训台账): one row per person per course, typed, with the
-- county's GB/T 2260 code and the programme's code. Holds names and ID numbers: staging only.
-- A table, not a view like the other staging models: eleven models and tests read it, and as a
-- view each of them typed and placed every row again (seconds each at province scale).
{{ config(materialized='incremental', incremental_strategy='difference', unique_key=['source_file', 'sheet', 'row_number']) }}

with source as (
    select * from {{ source('raw', 'training_records') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_place_name('township') }} as township_name,
        {{ clean_place_name('village') }} as village_name,
        {{ clean_text('trainee_name') }} as trainee_name,
        {{ clean_id_number('id_number') }} as id_number,
        {{ clean_text('programme_name') }} as programme_name,
        {{ clean_text('trade') }} as trade,
        {{ clean_text('institution') }} as institution_text,
        {{ to_date('start_date') }} as start_date,
        {{ to_date('end_date') }} as end_date,
        {{ to_count('duration_days') }} as stated_duration_days,
        {{ to_count('duration_hours') }} as stated_duration_hours,
        {{ to_yes_no('completed') }} as completed,
        {{ to_yes_no('certified') }} as certified,
        {{ clean_text('certificate_number') }} as certificate_number,
        {{ clean_text('certificate_level') }} as certificate_level,
        {{ to_yes_no('transferred_to_job') }} as transferred_to_job,
        {{ clean_text('employer') }} as employer,
        {{ to_amount('subsidy_yuan') }} as subsidy_yuan,
        {{ clean_text('fund_source') }} as fund_source_text,
        {{ canonical_fund_source(clean_text('fund_source')) }} as fund_source,
        {{ canonical_satisfaction(clean_text('trainee_satisfaction')) }} as trainee_satisfaction,
        {{ canonical_satisfaction(clean_text('employer_satisfaction')) }} as employer_satisfaction,
        ingested_at
    from source
),

with_region as (
    {{ resolve_region('renamed', 'county_name') }}
),

with_programme as (
    {{ resolve_programme('with_region', 'programme_name') }}
)

select * from with_programme
