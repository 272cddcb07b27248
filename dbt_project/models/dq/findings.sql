-- 数据质量问题清单: one row per flagged record, from every check model in this folder. What the
-- city reports, the Dagster asset checks and the analysts read. No name or ID number: people
-- are named by their pseudonymous trainee_key, ID numbers only ever appear masked.
{#- The check models to union, in no particular order: titles, order and severity come from the
    catalog (seeds/dq_checks.csv). dbt learns a model's refs when it parses the file, before the
    graph exists, so the refs are named here; tests/test_dq_catalog.py holds this list, the
    catalog and the check models in models/dq together. #}
{%- set check_models = [
    ref('target_persons_mismatch'), ref('report_overclaims_ledger'), ref('report_underclaims_ledger'),
    ref('task_inflated'), ref('unclassified_training_need'), ref('course_too_short'), ref('course_too_long'),
    ref('duplicate_training'), ref('invalid_id_number'), ref('rounded_id_number'), ref('id_region_mismatch'),
    ref('trainee_not_registered'), ref('institution_not_on_roster'), ref('trade_not_approved'),
    ref('institution_qualification_expired'), ref('village_count_mismatch'), ref('superseded_submission'),
    ref('no_task_allocated'), ref('unknown_programme'), ref('missing_start_date'), ref('unknown_region'),
    ref('file_not_loaded'), ref('row_not_loaded'), ref('report_missing'),
] %}
with all_findings as (
    {%- for check_model in check_models %}
        select
            check_name,
            city_code,
            county_code,
            township,
            village,
            source_file,
            sheet,
            row_number,
            entity_key,
            programme_code,
            period,
            as_of_month,
            detail
        from {{ check_model }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

checks as (
    select * from {{ ref('dq_checks') }}
),

regions as (
    -- names beside the codes, for analysts (GB/T 2260 names; unresolved codes stay null)
    select
        region_code,
        name_zh
    from {{ ref('regions') }}
),

programmes as (
    select
        programme_code,
        name_zh
    from {{ ref('programmes') }}
),

first_month as (
    -- the province's first month: the date of a finding whose file has no date at all
    select min(as_of_month) as month from all_findings
),

final as (
    select
        {{ readable_hash_key(
            'finding',
            "all_findings.check_name || '|' || coalesce(all_findings.source_file, '') || '|' || coalesce(all_findings.sheet, '') || '|' || coalesce(cast(all_findings.row_number as varchar), '') || '|' || coalesce(all_findings.entity_key, '')"
        ) }} as finding_key,
        all_findings.check_name,
        checks.title_zh as check_title_zh,
        checks.check_order,
        checks.severity,
        all_findings.city_code,
        cities.name_zh as city_name,
        all_findings.county_code,
        counties.name_zh as county_name,
        all_findings.township,
        all_findings.village,
        -- township / village under the names the other tables use (the old names stay)
        all_findings.township as township_name,
        all_findings.village as village_name,
        all_findings.source_file,
        all_findings.sheet,
        all_findings.row_number,
        all_findings.entity_key,
        all_findings.programme_code,
        programmes.name_zh as programme_name_zh,
        -- a finding without a date of its own: the first month of its file, else the province's
        -- first month (finding_file_months; docs/defects.md, "… and its period")
        coalesce(all_findings.period, strftime(
            coalesce(all_findings.as_of_month, file_months.first_month, first_month.month), '%Y-%m'
        )) as period,
        coalesce(all_findings.as_of_month, file_months.first_month, first_month.month) as as_of_month,
        all_findings.detail
    from all_findings
    inner join checks on all_findings.check_name = checks.check_name
    left join {{ ref('finding_file_months') }} as file_months on all_findings.source_file = file_months.source_file
    left join regions as cities on all_findings.city_code = cities.region_code
    left join regions as counties on all_findings.county_code = counties.region_code
    left join programmes on all_findings.programme_code = programmes.programme_code
    cross join first_month
)

select * from final
