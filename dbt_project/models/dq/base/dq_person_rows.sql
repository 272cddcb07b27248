{{ config(materialized='ephemeral') }}
-- Every sheet row that names a person by ID number: household sheets (户级采集表) and the
-- training ledger (实名制培训台账), with what the ID checks need. Ephemeral: the raw ID number
-- (and its 18-character upgrade) is only used here, to mask it (first 6 and last 4 characters shown); it never lands in dq.
-- the columns both sources give, in the same order on both sides of the union
{% set shared_columns = [
    'source_file', 'sheet', 'row_number', 'city_code', 'county_code', 'township_name', 'village_name',
    'trainee_key', 'id_number', 'id_status', 'is_valid_id', 'id_number_18', 'id_region_code',
] %}

with members as (
    select * from {{ ref('int_household_members_resolved') }}
),

enrolments as (
    select * from {{ ref('int_training_enrolments_checked') }}
),

regions as (
    select * from {{ ref('regions') }}
),

rows as (
    select
        'household_members' as source_name,
        '户级采集表' as document_zh,
        {{ shared_columns | join(', ') }},
        cast(null as boolean) as is_registered_member,
        cast(date_trunc('month', collected_on) as date) as as_of_month
    from members
    union all
    select
        'training_records' as source_name,
        '培训台账' as document_zh,
        {{ shared_columns | join(', ') }},
        is_registered_member,
        start_month as as_of_month
    from enrolments
),

final as (
    select
        rows.* exclude (rows.id_number, rows.id_number_18),
        -- an old 15-digit ID upgraded to 18 characters, masked the same way
        case
            when rows.id_status = 'old_15_digit' then left(rows.id_number_18, 6) || repeat('*', 8) || right(rows.id_number_18, 4)
        end as id_number_18_masked,
        case
            when rows.id_number is null then null
            when length(rows.id_number) <= 10 then repeat('*', length(rows.id_number))
            else left(rows.id_number, 6) || repeat('*', length(rows.id_number) - 10) || right(rows.id_number, 4)
        end as id_number_masked,
        length(rows.id_number) as id_length,
        counties.name_zh as county_name_zh,
        id_regions.name_zh as id_region_name_zh
    from rows
    left join regions as counties on rows.county_code = counties.region_code
    left join regions as id_regions on rows.id_region_code = id_regions.region_code
)

select * from final
