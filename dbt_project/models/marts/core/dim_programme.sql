-- The seven programmes (培训项目) and an explicit unknown member for unresolved names.
with programmes as (
    select * from {{ ref('programmes') }}
),

known as (
    select
        programme_code,
        sort_order,
        name_zh as programme_name_zh,
        name_en as programme_name_en,
        target_group_zh,
        duration_unit,
        min_duration,
        max_duration,
        min_days,
        max_days,
        min_hours,
        max_hours,
        annual_target,
        total_2015_2020,
        task_2015,
        false as is_unknown
    from programmes
),

unknown as (
    select
        'UNKNOWN' as programme_code,
        99 as sort_order,
        '未知项目' as programme_name_zh,
        'unknown programme' as programme_name_en,
        null as target_group_zh,
        null as duration_unit,
        null as min_duration,
        null as max_duration,
        null as min_days,
        null as max_days,
        null as min_hours,
        null as max_hours,
        null as annual_target,
        null as total_2015_2020,
        null as task_2015,
        true as is_unknown
)

select * from known
union all
select * from unknown
