-- Every name a city or county goes by (full and short, GB/T 2260), for resolving sheet text.
with regions as (
    select * from {{ ref('regions') }}
),

full_names as (
    select
        name_zh as region_name,
        level as region_level,
        region_code,
        city_code
    from regions
),

short_names as (
    select
        short_name_zh as region_name,
        level as region_level,
        region_code,
        city_code
    from regions
    where short_name_zh is not null
),

final as (
    select * from full_names
    union
    select * from short_names
)

select * from final
