-- Training institutions (培训机构): the roster's, one per code, and those the ledgers name but
-- the roster lacks (is_on_roster false), plus an unknown member for ledger rows without one.
-- The registration code is left out on purpose: an 18-character code of a public
-- institution is shaped like an ID number, and the published marts must hold none.
with roster as (
    select * from {{ ref('int_institutions_deduplicated') }}
),

off_roster as (
    select
        institution_key,
        min(institution_text) as institution_name
    from {{ ref('int_institution_names_matched') }}
    where not is_on_roster
    group by institution_key
),

on_roster_rows as (
    select
        institution_key,
        institution_name,
        institution_type,
        county_code,
        city_code,
        array_to_string(approved_trades, '、') as approved_trades,
        annual_capacity,
        qualification_valid_until,
        true as is_on_roster,
        false as is_unknown
    from roster
),

off_roster_rows as (
    select
        institution_key,
        institution_name,
        '未登记' as institution_type,
        null as county_code,
        null as city_code,
        null as approved_trades,
        null as annual_capacity,
        null as qualification_valid_until,
        false as is_on_roster,
        false as is_unknown
    from off_roster
),

unknown as (
    select
        'UNKNOWN' as institution_key,
        '未知机构' as institution_name,
        '未知' as institution_type,
        null as county_code,
        null as city_code,
        null as approved_trades,
        null as annual_capacity,
        null as qualification_valid_until,
        false as is_on_roster,
        true as is_unknown
)

select * from on_roster_rows
union all
select * from off_roster_rows
union all
select * from unknown
