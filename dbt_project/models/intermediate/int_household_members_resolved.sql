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

-- The two per-person flags. Most people have one registration: count every key's rows by a
-- hash aggregate and rank by date only the rows of keys registered more than once. A window over
-- every member row sorted all 4.17 million keys to find that almost every partition has one row
-- (the whole model 61 s alone at province scale, 32 s this way).
key_rows as (
    select
        trainee_key,
        count(*) as registrations,
        -- the same valid ID registered on more than one row (one person, several sheets)
        count(*) filter (where is_valid_id) as valid_id_registrations
    from joined
    group by trainee_key
),

latest_of_repeated as (
    select
        trainee_key,
        source_file,
        sheet,
        row_number
    from joined
    where
        trainee_key in (
            select key_rows.trainee_key from key_rows
            where key_rows.registrations > 1
        )
    qualify row_number() over (
        partition by trainee_key
        order by {{ latest_registration_first() }}
    ) = 1
),

registrations as (
    select
        key_rows.trainee_key,
        key_rows.valid_id_registrations,
        latest_of_repeated.source_file as latest_source_file,
        latest_of_repeated.sheet as latest_sheet,
        latest_of_repeated.row_number as latest_row_number
    from key_rows
    left join latest_of_repeated on key_rows.trainee_key = latest_of_repeated.trainee_key
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
        joined.is_valid_id and registrations.valid_id_registrations > 1 as is_registered_more_than_once,
        -- a key registered once has no latest row listed: that one row is its latest
        registrations.latest_source_file is null
        or (
            joined.source_file = registrations.latest_source_file
            and joined.sheet = registrations.latest_sheet
            and joined.row_number = registrations.latest_row_number
        ) as is_latest_registration
    from joined
    inner join registrations on joined.trainee_key = registrations.trainee_key
)

select * from final
