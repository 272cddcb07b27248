-- Registered poor households (建档立卡贫困户) by pseudonymous key: where they live, how many
-- members, who wants training and whether any member holds a vocational certificate
-- (职业资格证书) — from the household sheet or earned in a ledger course.
with members as (
    select * from {{ ref('int_household_members_resolved') }}
    where household_key is not null
),

certified_in_ledger as (
    select distinct trainee_key
    from {{ ref('int_training_enrolments_checked') }}
    where certified and is_valid_id
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
        order by collected_on desc nulls last, ingested_at desc, source_file asc, sheet asc, row_number asc
    ) = 1
),

-- One row per member first (a person on several sheet rows counts once), then plain counts:
-- the same numbers as count(distinct …) filter (…), without five distinct-aggregates over
-- the 4 million member rows.
per_member as (
    select
        members.household_key,
        members.trainee_key,
        -- the five labour categories of DOMAIN.md; 非劳动力 and unrecognised categories are not labour
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
        count_if(per_member.has_certificate) as members_with_certificate,
        count(certified_in_ledger.trainee_key) as members_certified_in_ledger
    from per_member
    left join certified_in_ledger on per_member.trainee_key = certified_in_ledger.trainee_key
    group by per_member.household_key
),

known as (
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
        counted.members_with_certificate,
        counted.members_certified_in_ledger,
        counted.members_with_training_need > 0 as has_training_need,
        counted.members_with_certificate > 0 or counted.members_certified_in_ledger > 0 as has_certificate_holder,
        false as is_unknown
    from located
    inner join counted on located.household_key = counted.household_key
),

unknown as (
    select
        'UNKNOWN' as household_key,
        'UNKNOWN' as region_key,
        null as city_code,
        null as county_code,
        null as township_name,
        null as village_name,
        null as members,
        null as labour_force_members,
        null as members_with_training_need,
        null as members_with_certificate,
        null as members_certified_in_ledger,
        null as has_training_need,
        null as has_certificate_holder,
        true as is_unknown
)

select * from known
union all
select * from unknown
