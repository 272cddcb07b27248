-- Training-institution roster (培训机构名册): one row per institution as listed.
with source as (
    select * from {{ source('raw', 'institutions') }}
),

renamed as (
    select
        source_file,
        sheet,
        row_number,
        nullif(upper(regexp_replace(institution_code, '\s', '', 'g')), '') as institution_code,
        {{ clean_text('institution_name') }} as institution_name,
        {{ clean_text('institution_type') }} as institution_type_text,
        {{ canonical_institution_type(clean_text('institution_type')) }} as institution_type,
        {{ clean_place_name('county') }} as county_name,
        {{ clean_text('approved_trades') }} as approved_trades_text,
        -- trades separated by 、 , ， ; ；, each trimmed, empty pieces dropped
        case
            when {{ clean_text('approved_trades') }} is not null
                then string_split_regex(
                    regexp_replace(trim(approved_trades), '^(\s*[、,，;；]\s*)+|(\s*[、,，;；]\s*)+$', '', 'g'),
                    '\s*[、,，;；]+\s*'
                )
        end as approved_trades,
        {{ to_count('annual_capacity') }} as annual_capacity,
        {{ to_date('qualification_valid_until') }} as qualification_valid_until,
        {{ clean_text('contact_person') }} as contact_person,
        {{ clean_text('contact_phone') }} as contact_phone,
        ingested_at
    from source
),

resolved as (
    {{ resolve_region('renamed', 'county_name') }}
)

select * from resolved
