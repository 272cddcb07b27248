-- 台账记录去向: one row per current ledger row (raw.training_records), saying whether the counting
-- rule counted it (counted), left it out as a repeat of a counted course (duplicate) or could
-- not place it (not_counted: unknown programme, missing or out-of-range start date, unknown
-- county), with the reason in Chinese. Every not_counted row has a dq.findings row of the
-- check named by reason_code at the same file, sheet and row. is_valid / disqualified_by
-- say whether a counted row also counts toward the task (the marts' valid_enrolled_ytd).
{{ config(materialized='incremental', incremental_strategy='difference', unique_key=['source_file', 'sheet', 'row_number']) }}

with enrolments as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
),

programmes as (
    select * from {{ ref('programmes') }}
),

outcomes as (
    select
        enrolments.*,
        case
            when enrolments.is_counted then 'counted'
            when enrolments.count_issue is not null then 'not_counted'
            else 'duplicate'
        end as outcome,
        coalesce(programmes.name_zh, enrolments.programme_name, '培训项目未填') as programme_name_zh
    from enrolments
    left join programmes on enrolments.programme_code = programmes.programme_code
),

final as (
    select
        source_file,
        sheet,
        row_number,
        city_code,
        county_code,
        township_name as township,
        programme_code,
        start_month as month,
        cast(start_year as integer) as year,
        trainee_key,
        outcome,
        case outcome
            when 'duplicate' then 'duplicate_training'
            when 'not_counted' then count_issue
        end as reason_code,
        case outcome
            when 'duplicate'
                then format(
                    '同一学员同年{}已在“{}”{}第 {} 行计 1 人次，本行不再计数：如确为重复录入请删除本行。',
                    programme_name_zh,
                    coalesce(duplicate_of_source_file, '未知文件'),
                    case when coalesce(duplicate_of_sheet, '') = '' then '' else '工作表“' || duplicate_of_sheet || '”' end,
                    coalesce(cast(duplicate_of_row_number as varchar), '?')
                )
            when 'not_counted'
                then case count_issue
                    when 'unknown_programme' then '培训项目为空或无法识别，本行未计入任何项目的完成数：请按七类培训项目的标准名称填写。'
                    when 'missing_start_date'
                        then '开班日期为空、无法识别或不在统计期内，本行未计入完成数：请按 2015-06-03 格式填写正确的开班日期。'
                    when 'unknown_region' then '县区为空或不是甘肃省的县区，本行未计入任何县区的完成数：请按行政区划名称填写县区。'
                end
        end as reason_zh,
        is_valid,
        nullif(array_to_string(disqualified_by, ','), '') as disqualified_by,
        is_counted and is_valid as counts_toward_task
    from outcomes
)

select * from final
