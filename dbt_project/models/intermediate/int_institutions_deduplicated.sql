-- The roster, one row per institution code: the most recently ingested listing wins
-- (a roster sent again replaces the earlier one). Rows without a code cannot be matched to
-- anything and are left out here; staging keeps them.
with roster as (
    select * from {{ ref('stg_institution_rosters__institutions') }}
    where institution_code is not null
),

ranked as (
    select
        *,
        count(*) over (partition by institution_code) as roster_rows,
        row_number() over (
            partition by institution_code
            order by ingested_at desc, source_file desc, sheet desc, row_number desc
        ) as listing_rank
    from roster
)

select
    {{ readable_hash_key('institution', 'institution_code') }} as institution_key,
    institution_code,
    institution_name,
    {{ normalise_name('institution_name') }} as normalised_name,
    institution_type,
    county_code,
    city_code,
    approved_trades,
    annual_capacity,
    qualification_valid_until,
    roster_rows,
    source_file,
    sheet,
    row_number
from ranked
where listing_rank = 1
