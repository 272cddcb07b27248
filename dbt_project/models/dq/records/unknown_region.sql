-- 县区无法识别: a ledger row whose 县区 is blank or is no Gansu county name (GB/T 2260, full
-- or short form). The trainee-time cannot be put against any county's task, so the row is
-- not counted anywhere. The finding is filed under the county most rows of the same file
-- name (a ledger is one county's), so it reaches that city's report; NULL when none does.
with enrolments as (
    select * from {{ ref('int_training_enrolments_deduplicated') }}
),

file_counties as (
    select
        source_file,
        mode(county_code) as file_county_code,
        mode(city_code) as file_city_code
    from enrolments
    where county_code is not null
    group by source_file
),

ledger_rows as (
    select
        enrolments.* exclude (city_code, county_code),
        file_counties.file_city_code as city_code,
        file_counties.file_county_code as county_code
    from enrolments
    left join file_counties on enrolments.source_file = file_counties.source_file
    where enrolments.county_code is null
),

final as (
    select
        {{ dq_finding('unknown_region') }}
        case
            when county_name is null
                then '培训台账未填写县区：请补填学员所在县区（如“康乐县”）。'
            else format('县区“{}”不是甘肃省的县区名称：请按行政区划名称（如“康乐县”）重新填写。', county_name)
        end || {{ disqualifying_reason('unknown_region') }} as detail,
        coalesce(region_issue, 'county_missing') as region_issue,
        county_name
    from ledger_rows
)

select * from final
