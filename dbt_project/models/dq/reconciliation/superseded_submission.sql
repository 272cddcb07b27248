-- 重复报送（已被取代）: a progress report row or a task-allocation row for a region and period that
-- another submission replaces (a revised file sent beside the first). The marts use only the
-- winner (rank_submissions: the greater file name, then sheet, then row); this lists every
-- superseded row, pointing at it and naming the winner, so an office can withdraw the wrong file.
with reports as (
    select
        'progress_reports' as source_name,
        city_code,
        county_code,
        township_name,
        report_month as as_of_month,
        strftime(report_month, '%Y-%m') as period,
        format('{} 年 {} 月进度报表', year(report_month), month(report_month)) as submission_zh,
        source_file,
        sheet,
        row_number,
        winning_source_file,
        winning_sheet,
        winning_row_number
    from {{ ref('stg_progress_reports__reports') }}
    where is_superseded
),

allocations as (
    select
        'task_allocations' as source_name,
        city_code,
        county_code,
        cast(null as varchar) as township_name,
        make_date(allocation_year, 1, 1) as as_of_month,
        cast(allocation_year as varchar) as period,
        format('{} 年培训任务分解表', allocation_year) as submission_zh,
        source_file,
        sheet,
        row_number,
        winning_source_file,
        winning_sheet,
        winning_row_number
    from {{ ref('stg_task_allocations__allocations') }}
    where is_superseded
),

superseded as (
    select * from reports
    union all
    select * from allocations
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        {{ dq_finding(
            'superseded_submission',
            city_code='coalesce(superseded.city_code, counties.city_code)',
            county_code='superseded.county_code',
            township='superseded.township_name',
            village=none,
            source_file='superseded.source_file',
            sheet='superseded.sheet',
            row_number='superseded.row_number',
            entity_key="superseded.source_name || '/' || superseded.county_code || '/' || coalesce(superseded.township_name, '') || '/' || superseded.period",
            programme_code=none,
            month='superseded.as_of_month',
            period='superseded.period'
        ) }}
        format(
            '{}{}{}重复报送：本行未采用，以文件《{}》{}第 {} 行为准（同一县区、同一期间有多份时，采用文件名排序在后的一份）。如本行才是正确数据，请撤回另一份文件或按本行更正后重新报送。',
            coalesce(counties.county_name_zh, superseded.county_code),
            coalesce(superseded.township_name, ''),
            superseded.submission_zh,
            superseded.winning_source_file,
            case when superseded.winning_sheet != '' then format('工作表「{}」', superseded.winning_sheet) else '' end,
            superseded.winning_row_number
        ) as detail,
        superseded.winning_source_file,
        superseded.winning_sheet,
        superseded.winning_row_number
    from superseded
    left join counties on superseded.county_code = counties.county_code
)

select * from final
