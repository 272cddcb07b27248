-- Village work list (村级待培训名单): one row per registered poor person (latest registration) with
-- a training need and no ledger course starting in the year, for every year the ledgers hold
-- courses. What a village acts on: the programme the need maps to (int_training_needs_classified;
-- UNKNOWN when no rule places it), the wanted trade, the priority flags of docs/domain.md
-- (革命老区 and 少数民族村 from the village sheet, 青壮年 = aged 16–45 on as_of_date by the ID's
-- birth date), the approved institutions of the county that teach the trade or the programme,
-- and for a household with nobody certified yet (户均一证, as mart_household_certificate_coverage
-- counts it) the member nearest to a certificate: a course ended by as_of_date, no vocational
-- qualification from it. Pseudonymous keys only; the city report joins names and masked IDs.
{{ config(materialized='incremental', incremental_strategy='difference', unique_key=['year', 'trainee_key']) }}

with years as (
    -- the years the ledgers hold courses in, each seen up to its last month with a course
    select
        start_year as year,
        last_day(max(start_month)) as as_of_date
    from {{ ref('fct_training_enrolments') }}
    where start_month between date '{{ var("first_month") }}' and date '{{ var("last_month") }}'
    group by start_year
),

members as (
    select * from {{ ref('int_household_members_resolved') }}
    where is_latest_registration and has_training_need
),

needs as (
    select * from {{ ref('int_training_needs_classified') }}
),

enrolments as (
    select * from {{ ref('fct_training_enrolments') }}
),

households as (
    select * from {{ ref('dim_household') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

programmes as (
    select * from {{ ref('dim_programme') }}
),

waiting as (
    select
        years.year,
        years.as_of_date,
        members.trainee_key,
        members.household_key,
        members.region_key,
        members.city_code,
        members.county_code,
        members.township_name,
        members.village_name,
        coalesce(needs.programme_code, 'UNKNOWN') as programme_code,
        members.desired_trade,
        members.labour_category,
        coalesce(members.sex_from_id, members.sex) as sex,
        case
            when members.birth_date is not null
                then
                    date_diff('year', members.birth_date, years.as_of_date)
                    - case when strftime(years.as_of_date, '%m%d') < strftime(members.birth_date, '%m%d') then 1 else 0 end
        end as age_years
    from members
    cross join years
    left join needs
        on
            members.source_file = needs.source_file
            and members.sheet = needs.sheet
            and members.row_number = needs.row_number
    where not exists (
        select 1
        from enrolments
        where enrolments.trainee_key = members.trainee_key and enrolments.start_year = years.year
    )
),

-- the trades the ledgers teach under each programme: what "an institution teaches the
-- programme" means, since a roster lists trades only
programme_trades as (
    select distinct
        programme_code,
        trade
    from enrolments
    where programme_code != 'UNKNOWN' and trade is not null
),

roster as (
    select
        roster.institution_key,
        roster.institution_name,
        roster.county_code,
        roster.approved_trades,
        roster.qualification_valid_until,
        list(distinct programme_trades.programme_code) filter (where programme_trades.programme_code is not null)
            as programmes_taught
    from {{ ref('int_institutions_deduplicated') }} as roster
    left join programme_trades on list_contains(roster.approved_trades, programme_trades.trade)
    group by all
),

-- what the institutions depend on: the county, the wanted trade, the programme and the date,
-- not the person; listed once per distinct want (listed per person, the model took 11 s at
-- province scale; 3.2 s so)
wants as (
    select distinct
        year,
        as_of_date,
        county_code,
        desired_trade,
        programme_code
    from waiting
),

-- approved (on the roster, qualification valid on as_of_date) institutions of the person's
-- county teaching the wanted trade or the programme; those teaching the trade first
institutions as (
    select
        wants.year,
        wants.county_code,
        wants.desired_trade,
        wants.programme_code,
        list(
            roster.institution_name
            order by
                coalesce(list_contains(roster.approved_trades, wants.desired_trade), false) desc,
                roster.institution_name
        ) as approved_institutions,
        count(*) as approved_institution_count,
        -- count_if sums to HUGEINT in DuckDB: counts are BIGINT everywhere in the marts
        count_if(coalesce(list_contains(roster.approved_trades, wants.desired_trade), false))::bigint
            as institutions_teaching_trade
    from wants
    inner join roster
        on
            wants.county_code = roster.county_code
            and wants.as_of_date <= roster.qualification_valid_until
            and (
                coalesce(list_contains(roster.approved_trades, wants.desired_trade), false)
                or coalesce(list_contains(roster.programmes_taught, wants.programme_code), false)
            )
    group by wants.year, wants.county_code, wants.desired_trade, wants.programme_code
),

-- per household and year, the member nearest to a certificate: a course ended (completed first,
-- then the latest end), with no vocational qualification awarded
nearest as (
    select
        years.year,
        enrolments.household_key,
        enrolments.trainee_key as nearest_to_certificate_key,
        enrolments.programme_code as nearest_to_certificate_programme_code,
        enrolments.end_date as nearest_to_certificate_course_ended_on
    from enrolments
    inner join years
        on enrolments.start_year <= years.year and enrolments.end_date <= years.as_of_date
    where
        enrolments.household_key != 'UNKNOWN'
        and not (coalesce(enrolments.certified, false) and {{ is_vocational_qualification('enrolments.certificate_level') }})
    qualify row_number() over (
        partition by years.year, enrolments.household_key
        order by coalesce(enrolments.completed, false) desc, enrolments.end_date desc, enrolments.trainee_key asc
    ) = 1
),

final as (
    select
        waiting.year,
        waiting.as_of_date,
        waiting.trainee_key,
        waiting.household_key,
        waiting.region_key,
        waiting.city_code,
        counties.city_name,
        waiting.county_code,
        counties.county_name,
        waiting.township_name,
        waiting.village_name,
        waiting.programme_code,
        programmes.programme_name_zh,
        waiting.desired_trade,
        waiting.labour_category,
        waiting.sex,
        waiting.age_years,
        coalesce(villages.is_old_revolutionary_area, false) as is_old_revolutionary_area,
        coalesce(villages.is_ethnic_minority_village, false) as is_ethnic_minority_village,
        coalesce(waiting.age_years between 16 and 45, false) as is_young_prime_age,
        coalesce(villages.is_old_revolutionary_area, false)
        or coalesce(villages.is_ethnic_minority_village, false)
        or coalesce(waiting.age_years between 16 and 45, false) as is_priority,
        coalesce(not households.has_certificate_holder, false) as household_without_certificate,
        case when not households.has_certificate_holder then nearest.nearest_to_certificate_key end
            as nearest_to_certificate_key,
        case when not households.has_certificate_holder then nearest.nearest_to_certificate_programme_code end
            as nearest_to_certificate_programme_code,
        case when not households.has_certificate_holder then nearest.nearest_to_certificate_course_ended_on end
            as nearest_to_certificate_course_ended_on,
        coalesce(institutions.approved_institutions, []) as approved_institutions,
        coalesce(institutions.approved_institution_count, 0) as approved_institution_count,
        coalesce(institutions.institutions_teaching_trade, 0) as institutions_teaching_trade
    from waiting
    left join regions as counties on waiting.county_code = counties.region_key
    left join regions as villages on waiting.region_key = villages.region_key
    left join programmes on waiting.programme_code = programmes.programme_code
    left join households on waiting.household_key = households.household_key
    left join nearest on waiting.year = nearest.year and waiting.household_key = nearest.household_key
    left join institutions
        on
            waiting.year = institutions.year
            and waiting.county_code = institutions.county_code
            and waiting.desired_trade is not distinct from institutions.desired_trade
            and waiting.programme_code = institutions.programme_code
)

select * from final
