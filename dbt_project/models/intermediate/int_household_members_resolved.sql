-- Household members with their person and household keys. A member with a valid ID gets the
-- person key shared with the ledgers; a member whose ID is invalid or rounded gets a key of
-- its own sheet row, so two such rows are never taken for one person.
with members as (
    select * from {{ ref('stg_household_sheets__members') }}
),

ids as (
    select * from {{ ref('int_household_id_numbers_validated') }}
),

-- one keyed hash per household, not per member: a million hashes instead of four
household_numbers as (
    select distinct household_number
    from members
    where household_number is not null
),

households as (
    select
        household_number,
        {{ pseudonymous_key('household', 'household_number') }} as household_key
    from household_numbers
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
        households.household_key
    from members
    left join ids on members.id_number is not distinct from ids.id_number
    left join households on members.household_number = households.household_number
),

-- The two per-person flags, computed over the few columns they need: a window over the whole
-- member row would carry every column through the sort (four times the time at province scale).
registrations as (
    select
        source_file,
        sheet,
        row_number,
        -- the same valid ID registered on more than one row (one person, several sheets)
        count(*) over (partition by case when is_valid_id then trainee_key end) > 1 and is_valid_id
            as is_registered_more_than_once,
        row_number() over (
            partition by trainee_key
            order by collected_on desc nulls last, ingested_at desc, source_file asc, sheet asc, row_number asc
        ) = 1 as is_latest_registration
    from joined
),

final as (
    select
        joined.*,
        {{ region_key('joined.county_code', 'joined.township_name', 'joined.village_name') }} as region_key,
        case when joined.is_valid_id and joined.county_code is not null then joined.id_region_code = joined.county_code end
            as id_matches_county,
        case
            when joined.is_valid_id and joined.city_code is not null
                then left(joined.id_region_code, 4) = left(joined.city_code, 4)
        end as id_matches_city,
        registrations.is_registered_more_than_once,
        registrations.is_latest_registration
    from joined
    inner join registrations
        on
            joined.source_file = registrations.source_file
            and joined.sheet = registrations.sheet
            and joined.row_number = registrations.row_number
)

select * from final
