-- 任务数虚增: the war maps' total plan or a county progress report's task for a programme and
-- year is above what the province allocated to the county (reconcile_tasks).
with compared as (
    select * from {{ ref('reconcile_tasks') }}
    where is_inflated
),

final as (
    select
        -- the report row giving the largest task, else the war-map row that inflates the plan
        -- (reconcile_tasks: the village plan most above what the village trained)
        {{ dq_finding(
            'task_inflated',
            township=none,
            village=none,
            source_file='case when is_report_inflated then report_source_file else war_map_source_file end',
            sheet='case when is_report_inflated then report_sheet else war_map_sheet end',
            row_number='case when is_report_inflated then report_row_number else war_map_row_number end',
            entity_key="county_code || '/' || programme_code || '/' || year",
            month='case when is_report_inflated and not is_plan_inflated then max_task_month'
                ~ ' else make_date(year, 1, 1) end',
            period='cast(year as varchar)'
        ) }}
        format(
            '{} {} 年{}下达任务 {} 人次，{}：任务数应以年度培训任务分解表为准，请更正。',
            coalesce(county_name_zh, county_code),
            year,
            programme_name_zh,
            allocation,
            concat_ws(
                '；',
                case
                    when is_plan_inflated
                        then format(
                            '各乡镇作战图合计计划 {} 人次，超出 {} 人次（请先核对{}{}{}的计划 {} 人次）',
                            planned_total,
                            plan_minus_allocation,
                            coalesce(county_name_zh, county_code),
                            coalesce(war_map_township, ''),
                            coalesce(war_map_village, ''),
                            war_map_village_plan
                        )
                end,
                case
                    when is_report_inflated
                        then format(
                            '{} 月进度报表任务数 {} 人次，超出 {} 人次',
                            month(max_task_month), max_report_task, report_task_minus_allocation
                        )
                end
            )
        ) as detail,
        allocation,
        planned_total,
        max_report_task
    from compared
)

select * from final
