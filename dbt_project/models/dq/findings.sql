-- 数据质量问题清单: one row per flagged record, from every check model in this folder. What the
-- city reports, the Dagster asset checks and the analysts read. No name or ID number: people
-- are named by their pseudonymous trainee_key, ID numbers only ever appear masked.
{%- set checks = [
    ('target_persons_mismatch', '培训对象人数不一致', 1),
    ('report_overclaims_ledger', '进度报表多报（高于台账）', 2),
    ('report_underclaims_ledger', '进度报表少报（低于台账）', 3),
    ('task_inflated', '任务数超出下达任务', 4),
    ('unclassified_training_need', '培训需求未归入培训项目', 5),
    ('course_too_short', '培训时长不足', 6),
    ('course_too_long', '培训时长超过 1.5 倍标准', 7),
    ('duplicate_training', '同一人同年重复培训', 8),
    ('invalid_id_number', '身份证号码无效', 9),
    ('rounded_id_number', '身份证号码被 Excel 四舍五入', 10),
    ('id_region_mismatch', '身份证地区码与县区不符', 11),
    ('trainee_not_registered', '学员不在户级采集表', 12),
    ('institution_not_on_roster', '培训机构不在名册', 13),
    ('trade_not_approved', '培训工种未经核准', 14),
    ('institution_qualification_expired', '培训机构资质过期', 15),
    ('village_count_mismatch', '村级采集表与户级采集表不符', 16),
    ('superseded_submission', '重复报送（已被取代）', 17),
    ('no_task_allocated', '未下达培训任务', 18),
    ('unknown_programme', '培训项目无法识别', 19),
    ('missing_start_date', '开班日期缺失或超出统计期', 20),
    ('unknown_region', '县区无法识别', 21),
    ('file_not_loaded', '文件或工作表未能导入', 22),
    ('row_not_loaded', '数据行未能导入', 23),
] %}
with all_findings as (
    {%- for check_name, title_zh, order in checks %}
        select
            check_name,
            severity,
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
        from {{ ref(check_name) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

titles as (
    {%- for check_name, title_zh, order in checks %}
        select
            '{{ check_name }}' as check_name,
            '{{ title_zh }}' as check_title_zh,
            {{ order }} as check_order
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
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
        titles.check_title_zh,
        titles.check_order,
        all_findings.severity,
        all_findings.city_code,
        all_findings.county_code,
        all_findings.township,
        all_findings.village,
        all_findings.source_file,
        all_findings.sheet,
        all_findings.row_number,
        all_findings.entity_key,
        all_findings.programme_code,
        -- a finding without a date of its own: the first month of its file, else the province's
        -- first month (finding_file_months; docs/defects.md, "… and its period")
        coalesce(all_findings.period, strftime(
            coalesce(all_findings.as_of_month, file_months.first_month, first_month.month), '%Y-%m'
        )) as period,
        coalesce(all_findings.as_of_month, file_months.first_month, first_month.month) as as_of_month,
        all_findings.detail
    from all_findings
    inner join titles on all_findings.check_name = titles.check_name
    left join {{ ref('finding_file_months') }} as file_months on all_findings.source_file = file_months.source_file
    cross join first_month
)

select * from final
