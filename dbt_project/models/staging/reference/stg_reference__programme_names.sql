-- Every programme name and variant, normalised the way sheet text is normalised.
with variants as (
    select
        variant as name_zh,
        programme_code
    from {{ ref('programme_name_variants') }}
),

canonical as (
    select
        name_zh,
        programme_code
    from {{ ref('programmes') }}
),

all_names as (
    select * from variants
    union
    select * from canonical
),

final as (
    select distinct
        {{ normalise_name('name_zh') }} as normalised_name,
        programme_code
    from all_names
)

select * from final
