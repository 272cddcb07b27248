-- Every distinct ID number (身份证号码) of the training ledgers, checked as docs/defects.md defines it
-- (macro validated_id_numbers: GB 11643 shape, check character, birth date; rounded numbers
-- flagged, never repaired). Kept apart from the other source's IDs so a new ledger file does not
-- rebuild the 4 million household IDs, and the reverse.
with ids as (
    select distinct id_number from {{ ref('stg_training_ledgers__records') }}
),

{{ validated_id_numbers('ids') }}
