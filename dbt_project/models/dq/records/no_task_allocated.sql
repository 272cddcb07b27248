-- 未下达任务: a county whose ledger counts trainee-times for a programme and year for which the
-- 年度培训任务分解表 gives it no allocation. The trainee-times stay in the county's attainment
-- rows and in the city and province totals; only the county's rate cannot be computed.
-- One finding per county × programme × year, at the year's last month in the mart.
with untasked as (
    select
        year,
        city_code,
        county_code,
        min(county_name) as county_name,
        programme_code,
        max(enrolled_ytd) as enrolled_ytd,
        max(month) as last_month
    from {{ ref('mart_target_attainment_monthly') }}
    where annual_target is null
    group by year, city_code, county_code, programme_code
    having max(enrolled_ytd) > 0
),

programmes as (
    select * from {{ ref('programmes') }}
),

final as (
    select
        {{ dq_finding(
            'no_task_allocated',
            city_code='untasked.city_code',
            county_code='untasked.county_code',
            township=none,
            village=none,
            source_file=none,
            sheet=none,
            row_number=none,
            entity_key="untasked.county_code || '|' || untasked.programme_code || '|' || untasked.year",
            programme_code='untasked.programme_code',
            month='untasked.last_month',
            period='cast(untasked.year as varchar)'
        ) }}
        format(
            '{}（{}）{} 年培训台账有{} {} 人次，但年度培训任务分解表没有下达该县该项目的任务：'
            || '这些人次已计入市州和全省合计，该县完成率无法计算；请补报任务分解表或核实县区。',
            coalesce(untasked.county_name, '该县'),
            untasked.county_code,
            untasked.year,
            coalesce(programmes.name_zh, untasked.programme_code),
            untasked.enrolled_ytd
        ) || {{ disqualifying_reason('no_task_allocated') }} as detail,
        untasked.enrolled_ytd
    from untasked
    left join programmes on untasked.programme_code = programmes.programme_code
)

select * from final
