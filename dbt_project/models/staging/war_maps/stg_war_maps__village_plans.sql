-- Township war map (乡镇作战图): one row per village of a township's plan. The plan's year is
-- in the sheet title ("…2015年…作战图"); failing that, the year of the deadline (完成时限).
with source as (
    select * from {{ source('raw', 'war_map_targets') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        sheet_title,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_place_name('township') }} as township_name,
        {{ clean_place_name('village') }} as village_name,
        {{ to_count('poor_households') }} as poor_households,
        {{ to_count('poor_population') }} as poor_population,
        {{ to_count('labour_force') }} as labour_force,
        {{ to_count('target_persons') }} as target_persons,
        {%- for code in programme_codes() %}
            {{ to_count('plan_' ~ code) }} as plan_{{ code }},
        {%- endfor %}
        {{ clean_text('responsible_person') }} as responsible_person,
        {{ to_date('deadline') }} as deadline,
        try_cast(nullif(regexp_extract(sheet_title, '(20[0-9]{2})\s*年', 1), '') as integer) as title_year,
        {{ is_total_row(['county', 'township', 'village']) }} as is_total_row,
        ingested_at
    from source
),

with_year as (
    select
        *,
        coalesce(title_year, year(deadline)) as plan_year,
        case
            when title_year is not null then 'sheet_title'
            when deadline is not null then 'deadline'
        end as plan_year_source
    from renamed
),

resolved as (
    {{ resolve_region('with_year', 'county_name') }}
)

select * from resolved
