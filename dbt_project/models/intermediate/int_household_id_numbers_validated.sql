-- Every distinct ID number (身份证号码) of the household sheets, checked as docs/defects.md defines it
-- (macro validated_id_numbers: GB 11643 shape, check character, birth date; rounded numbers
-- flagged, never repaired). Kept apart from the other source's IDs so a new ledger file does not
-- rebuild the 4 million household IDs, and the reverse.
-- Read from the raw table through the same clean_id_number as stg_household_sheets__members:
-- through the staging view, every member row was typed and placed for its one ID column
-- (13 s of 24 s at province scale).
with ids as (
    select distinct {{ clean_id_number('id_number') }} as id_number
    from {{ source('raw', 'household_members') }}
),

{{ validated_id_numbers('ids') }}
