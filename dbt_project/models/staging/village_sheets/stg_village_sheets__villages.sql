-- Village collection sheet (村级采集表): one row per village and its counts.
with source as (
    select * from {{ source('raw', 'village_statistics') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        {{ clean_place_name('city') }} as city_name,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_place_name('township') }} as township_name,
        {{ clean_place_name('village') }} as village_name,
        {{ to_count('total_households') }} as total_households,
        {{ to_count('total_population') }} as total_population,
        {{ to_count('poor_households') }} as poor_households,
        {{ to_count('poor_population') }} as poor_population,
        {{ to_count('labour_force') }} as labour_force,
        {{ to_count('persons_with_training_need') }} as persons_with_training_need,
        {{ to_count('trained_this_year') }} as trained_this_year,
        {{ to_count('certificate_holders') }} as certificate_holders,
        {{ to_yes_no('is_old_revolutionary_area') }} as is_old_revolutionary_area,
        {{ to_yes_no('is_ethnic_minority_village') }} as is_ethnic_minority_village,
        {{ to_date('reported_on') }} as reported_on,
        {{ is_total_row(['county', 'township', 'village']) }} as is_total_row,
        ingested_at
    from source
),

resolved as (
    {{ resolve_region('renamed', 'county_name', 'city_name') }}
)

select * from resolved
