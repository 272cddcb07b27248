-- The slow path of int_household_members_resolved, kept as it was before it was made faster (issue 16):
-- tests/transform/test_fast_paths.py compiles it and checks that the model returns exactly these rows.
-- Change it only together with the model, when the model's meaning changes.
-- Household members with their person and household keys. A member with a valid ID gets the
-- person key shared with the ledgers; a member whose ID is invalid or rounded gets a key of
-- its own sheet row, so two such rows are never taken for one person.
with members as (
    select * from {{ ref('stg_household_sheets__members') }}
),

ids as (
    select * from {{ ref('int_household_id_numbers_validated') }}
),

joined as (
    select
        members.*,
        ids.id_format,
        coalesce(ids.id_status, 'missing') as id_status,
        coalesce(ids.is_valid_id, false) as is_valid_id,
        coalesce(ids.is_rounded_id, false) as is_rounded_id,
        ids.id_number_18,
        ids.birth_date,
        ids.id_region_code,
        ids.sex_from_id,
        coalesce(
            ids.person_key,
            {{ pseudonymous_key('record', "'household_members|' || members.source_file || '|' || members.sheet || '|' || members.row_number") }}
        ) as trainee_key,
        case
            when members.household_number is not null
                then {{ pseudonymous_key('household', 'members.household_number') }}
        end as household_key
    from members
    left join ids on members.id_number is not distinct from ids.id_number
),

final as (
    select
        *,
        {{ region_key('county_code', 'township_name', 'village_name') }} as region_key,
        case when is_valid_id and county_code is not null then id_region_code = county_code end
            as id_matches_county,
        case when is_valid_id and city_code is not null then left(id_region_code, 4) = left(city_code, 4) end
            as id_matches_city,
        -- the same valid ID registered on more than one row (one person, several sheets)
        count(*) over (partition by case when is_valid_id then trainee_key end) > 1 and is_valid_id
            as is_registered_more_than_once,
        row_number() over (
            partition by trainee_key
            order by collected_on desc nulls last, ingested_at desc, source_file asc, sheet asc, row_number asc
        ) = 1 as is_latest_registration
    from joined
)

select * from final
