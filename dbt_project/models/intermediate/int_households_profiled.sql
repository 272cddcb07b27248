-- One row per registered poor household (建档立卡贫困户) from the household sheets alone: where
-- it lives (its latest collected row) and how many members it has, of labour force, with a
-- training need, with a certificate on the sheet. Kept apart from dim_household so a new ledger
-- file (which only changes the certificates earned in courses) does not recount 4 million members.
with members as (
    select * from {{ ref('int_household_members_resolved') }}
    where household_key is not null
),

located as (
    select
        household_key,
        region_key,
        city_code,
        county_code,
        township_name,
        village_name
    from members
    qualify row_number() over (
        partition by household_key
        order by {{ latest_registration_first() }}
    ) = 1
),

-- One row per member first (a person on several sheet rows counts once), then plain counts:
-- the same numbers as count(distinct …) filter (…), without five distinct-aggregates over
-- the 4 million member rows.
per_member as (
    select
        members.household_key,
        members.trainee_key,
        -- the five labour categories of docs/domain.md; 非劳动力 and unrecognised categories are not labour
        bool_or(members.labour_category != '非劳动力') as is_labour_force,
        bool_or(members.has_training_need) as has_training_need,
        bool_or(members.has_certificate) as has_certificate
    from members
    group by members.household_key, members.trainee_key
),

counted as (
    select
        per_member.household_key,
        count(*) as members,
        count_if(per_member.is_labour_force) as labour_force_members,
        count_if(per_member.has_training_need) as members_with_training_need,
        count_if(per_member.has_certificate) as members_with_certificate
    from per_member
    group by per_member.household_key
)

select
    located.household_key,
    located.region_key,
    located.city_code,
    located.county_code,
    located.township_name,
    located.village_name,
    counted.members,
    counted.labour_force_members,
    counted.members_with_training_need,
    counted.members_with_certificate
from located
inner join counted on located.household_key = counted.household_key
