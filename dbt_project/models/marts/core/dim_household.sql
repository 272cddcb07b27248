-- Registered poor households (建档立卡贫困户) by pseudonymous key: where they live, how many
-- members, who wants training and whether any member holds a vocational certificate
-- (职业资格证书) — from the household sheet (int_households_profiled: 是否持有职业资格证书 = 是) or
-- earned in a ledger course with a 鉴定等级 (初级工 … 高级技师); completion certificates do not count.
{{ config(materialized='incremental', incremental_strategy='difference', unique_key='household_key') }}

with households as (
    select * from {{ ref('int_households_profiled') }}
),

certified_in_ledger as (
    select distinct trainee_key
    from {{ ref('int_training_enrolments_checked') }}
    -- 户均一证 counts vocational qualification certificates only (with a 鉴定等级), never a
    -- 结业证书 or 合格证: see is_vocational_qualification
    where certified and is_valid_id and {{ is_vocational_qualification('certificate_level') }}
),

-- the few certified people, joined to their households: a small build side over the members
certified_members as (
    select
        members.household_key,
        count(distinct members.trainee_key) as members_certified_in_ledger
    from {{ ref('int_household_members_resolved') }} as members
    inner join certified_in_ledger on members.trainee_key = certified_in_ledger.trainee_key
    where members.household_key is not null
    group by members.household_key
),

known as (
    -- counts as BIGINT, not the HUGEINT a DuckDB sum gives: analysts' tools read BIGINT
    select
        households.household_key,
        households.region_key,
        households.city_code,
        households.county_code,
        households.township_name,
        households.village_name,
        households.members,
        cast(households.labour_force_members as bigint) as labour_force_members,
        cast(households.members_with_training_need as bigint) as members_with_training_need,
        cast(households.members_with_certificate as bigint) as members_with_certificate,
        coalesce(certified_members.members_certified_in_ledger, 0) as members_certified_in_ledger,
        households.members_with_training_need > 0 as has_training_need,
        households.members_with_certificate > 0
        or coalesce(certified_members.members_certified_in_ledger, 0) > 0 as has_certificate_holder,
        false as is_unknown
    from households
    left join certified_members on households.household_key = certified_members.household_key
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
