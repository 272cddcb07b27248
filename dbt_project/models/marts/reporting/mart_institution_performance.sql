-- Training quality by institution and by institution type (公办职业院校 / 技工院校 /
-- 民办培训机构 …) per year of course start: completion (结业), certification (取证), job
-- transfer (转移就业) and satisfaction (满意度, 3 = 满意, 2 = 基本满意, 1 = 不满意).
-- Repeated courses (is_duplicate) are left out. grain says which of the two a row is.
-- Completion and certification count only courses that have ended (结业日期 on or before the
-- as-of date: the end of the latest month any progress report covers, else of the latest course
-- start): a course still running is neither completed nor failed, so it is in neither the
-- numerator nor the denominator of completion_rate and certification_rate.
with enrolments as (
    select * from {{ ref('fct_training_enrolments') }}
    where not is_duplicate
),

as_of as (
    select
        last_day(coalesce(
            (
                select max(report_month) from {{ ref('fct_reported_progress') }}
                where report_level != 'unknown'
            ),
            (select max(start_date) from enrolments)
        )) as as_of_date
),

institutions as (
    select * from {{ ref('dim_institution') }}
),

joined as (
    select
        enrolments.*,
        institutions.institution_name,
        institutions.institution_type,
        institutions.is_on_roster,
        coalesce(enrolments.end_date <= as_of.as_of_date, false) as has_ended
    from enrolments
    inner join institutions on enrolments.institution_key = institutions.institution_key
    cross join as_of
),

rolled_up as (
    select
        case when grouping(institution_key) = 0 then 'institution' else 'institution_type' end as grain,
        start_year as year,
        institution_type,
        institution_key,
        min(institution_name) as institution_name,
        bool_and(is_on_roster) as is_on_roster,
        count(*) as enrolments,
        count(*) filter (where has_ended) as courses_ended,
        count(*) filter (where has_ended and completed) as completed,
        count(*) filter (where has_ended and certified) as certified,
        count(*) filter (where transferred_to_job) as transferred_to_job,
        count(trainee_satisfaction_score) as satisfaction_responses,
        count(*) filter (where trainee_satisfaction = '满意') as satisfied,
        count(*) filter (where trainee_satisfaction = '基本满意') as basically_satisfied,
        count(*) filter (where trainee_satisfaction = '不满意') as dissatisfied,
        avg(trainee_satisfaction_score) as mean_satisfaction_score,
        count(employer_satisfaction_score) as employer_satisfaction_responses,
        avg(employer_satisfaction_score) as mean_employer_satisfaction_score,
        count(*) filter (where duration_status = 'too_short') as courses_too_short,
        cast(sum(subsidy_yuan) as decimal(16, 2)) as subsidy_yuan
    from joined
    group by grouping sets (
        (start_year, institution_type, institution_key),
        (start_year, institution_type)
    )
),

final as (
    select
        grain,
        year,
        institution_type,
        institution_key,
        case when grain = 'institution' then institution_name end as institution_name,
        case when grain = 'institution' then is_on_roster end as is_on_roster,
        enrolments,
        courses_ended,
        completed,
        round(completed / nullif(courses_ended, 0), 4) as completion_rate,
        certified,
        round(certified / nullif(courses_ended, 0), 4) as certification_rate,
        transferred_to_job,
        round(transferred_to_job / enrolments, 4) as transfer_rate,
        satisfaction_responses,
        satisfied,
        basically_satisfied,
        dissatisfied,
        round((satisfied + basically_satisfied) / nullif(satisfaction_responses, 0), 4) as satisfaction_rate,
        round(mean_satisfaction_score, 2) as mean_satisfaction_score,
        employer_satisfaction_responses,
        round(mean_employer_satisfaction_score, 2) as mean_employer_satisfaction_score,
        courses_too_short,
        subsidy_yuan
    from rolled_up
)

select * from final
