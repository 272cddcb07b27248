-- 文件归属: the county and city of every current raw file, so that a file, sheet or row the
-- ingest could not load reaches the county that sent it. In order: the county most of the
-- file's loaded rows name; else a county named in the file's path (full or short name, e.g.
-- 康乐县 / 康乐; the longest name wins, and a tie between counties gives only their city
-- when they share one); else a city named in the path; else none (province level).
{%- set raw_tables = [
    'household_members', 'village_statistics', 'institutions', 'training_records',
    'war_map_targets', 'progress_reports', 'task_allocations',
] %}
{#- The audit tables read, for the column lineage in Dagster (macros/table_metadata.sql). #}
{{ config(meta={'audit_tables': ['current_files']}) }}
with files as (
    select
        source_file,
        source
    from {{ audit_table('current_files') }}
),

region_names as (
    select * from {{ ref('stg_reference__region_names') }}
),

loaded_county_names as (
    {%- for table in raw_tables %}
        select
            source_file,
            {{ clean_place_name('county') }} as county_name,
            count(*) as loaded_rows
        from {{ source('raw', table) }}
        group by all
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

loaded_counties as (
    select
        loaded_county_names.source_file,
        region_names.region_code as county_code,
        region_names.city_code,
        sum(loaded_county_names.loaded_rows) as loaded_rows
    from loaded_county_names
    inner join region_names
        on
            loaded_county_names.county_name = region_names.region_name
            and region_names.region_level = 'county'
    group by all
),

by_loaded_rows as (
    select
        source_file,
        county_code,
        city_code
    from loaded_counties
    qualify row_number() over (partition by source_file order by loaded_rows desc, county_code asc) = 1
),

-- every region whose full or short name is in the path, with the longest such name
path_hits as (
    select
        files.source_file,
        region_names.region_level,
        region_names.region_code,
        region_names.city_code,
        max(length(region_names.region_name)) as name_length
    from files
    inner join region_names on contains(files.source_file, region_names.region_name)
    where region_names.region_level in ('county', 'city')
    group by all
),

longest_path_hits as (
    select * from path_hits
    qualify name_length = max(name_length) over (partition by source_file, region_level)
),

by_path as (
    select
        source_file,
        case
            when count(distinct region_code) filter (where region_level = 'county') = 1
                then any_value(region_code) filter (where region_level = 'county')
        end as county_code,
        case
            when count(distinct city_code) filter (where region_level = 'county') = 1
                then any_value(city_code) filter (where region_level = 'county')
            when count(distinct region_code) filter (where region_level = 'city') = 1
                then any_value(region_code) filter (where region_level = 'city')
        end as city_code
    from longest_path_hits
    group by source_file
),

final as (
    select
        files.source_file,
        files.source,
        coalesce(by_loaded_rows.county_code, by_path.county_code) as county_code,
        coalesce(by_loaded_rows.city_code, by_path.city_code) as city_code,
        case
            when by_loaded_rows.county_code is not null then 'loaded_rows'
            when by_path.city_code is not null then 'file_path'
        end as attributed_by
    from files
    left join by_loaded_rows on files.source_file = by_loaded_rows.source_file
    left join by_path on files.source_file = by_path.source_file
)

select * from final
