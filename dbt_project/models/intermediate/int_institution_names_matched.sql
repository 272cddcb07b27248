-- Each distinct institution as a ledger writes it (培训机构: name or code), matched to the
-- roster by code first, then by name when the name belongs to one roster code only.
-- Unmatched names become off-roster institutions with a key of their own.
with ledger_texts as (
    select distinct institution_text
    from {{ ref('stg_training_ledgers__records') }}
    where institution_text is not null
),

roster as (
    select * from {{ ref('int_institutions_deduplicated') }}
),

roster_names as (
    select
        normalised_name,
        min(institution_key) as institution_key,
        count(*) as roster_codes
    from roster
    group by normalised_name
),

matched as (
    select
        ledger_texts.institution_text,
        {{ normalise_name('ledger_texts.institution_text') }} as normalised_text,
        by_code.institution_key as key_by_code,
        case when by_name.roster_codes = 1 then by_name.institution_key end as key_by_name,
        by_name.roster_codes > 1 as is_name_ambiguous
    from ledger_texts
    left join roster as by_code
        on upper(regexp_replace(ledger_texts.institution_text, '\s', '', 'g')) = by_code.institution_code
    left join roster_names as by_name
        on {{ normalise_name('ledger_texts.institution_text') }} = by_name.normalised_name
)

select
    institution_text,
    normalised_text,
    coalesce(
        key_by_code,
        key_by_name,
        {{ readable_hash_key('off_roster_institution', 'normalised_text') }}
    ) as institution_key,
    case
        when key_by_code is not null then 'code'
        when key_by_name is not null then 'name'
        else 'off_roster'
    end as match_kind,
    coalesce(key_by_code, key_by_name) is not null as is_on_roster,
    case
        when coalesce(key_by_code, key_by_name) is not null then null
        when is_name_ambiguous then 'institution_name_ambiguous'
        else 'institution_not_on_roster'
    end as institution_issue
from matched
