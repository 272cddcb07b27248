{#- The GB 11643 checks of int_*_id_numbers_validated, on a relation or CTE `ids` of distinct
    id_number: the CTEs after it and the final select. One macro, so household and ledger IDs are
    judged alike while each model is rebuilt only when its own source changes.
    An old first-generation 15-digit ID (6-digit region, YYMMDD, 3-digit sequence) is upgraded the
    way the public-security system did it: insert 19 before the year, append the check character.
    It keeps id_status 'old_15_digit' (the sheet must still be corrected) but identifies the person
    (is_valid_id, id_number_18, person_key of the 18-character form), so a registered person
    trained under the old ID is the same person everywhere. -#}
{% macro validated_id_numbers(ids) %}
shaped as (
    select
        id_number,
        case
            when id_number is null then 'missing'
            when regexp_full_match(id_number, '[0-9](\.[0-9]+)?E\+?[0-9]+') then 'rounded'
            when regexp_full_match(id_number, '[0-9]{17}[0-9X]') then '18'
            when regexp_full_match(id_number, '[0-9]{15}') then '15'
            when regexp_full_match(id_number, '[0-9]*[0-9X]') then 'bad_length'
            else 'bad_characters'
        end as id_format
    from {{ ids }}
),

upgraded as (
    select
        *,
        case
            when id_format = '18' then substr(id_number, 1, 17)
            when id_format = '15' then substr(id_number, 1, 6) || '19' || substr(id_number, 7, 9)
        end as first_17
    from shaped
),

checked as (
    select
        *,
        case
            when id_format = '18' then id_number
            when id_format = '15' then first_17 || {{ gb11643_check_character('first_17') }}
        end as id_18,
        cast(try_strptime(substr(first_17, 7, 8), '%Y%m%d') as date) as encoded_birth_date,
        case
            when id_format = '18'
                then substr(id_number, 18, 1) = {{ gb11643_check_character('first_17') }}
        end as has_valid_check_character
    from upgraded
),

final as (
    select
        id_number,
        id_format,
        id_18,
        case
            when id_format not in ('15', '18') then id_format
            when
                encoded_birth_date is null
                or encoded_birth_date < date '1900-01-01'
                or encoded_birth_date > last_day(date '{{ var("last_month") }}')
                then 'bad_birth_date'
            when id_format = '15' then 'old_15_digit'
            when not has_valid_check_character then 'bad_check_digit'
            else 'valid'
        end as id_status,
        encoded_birth_date
    from checked
),

identified as (
    select
        *,
        id_status in ('valid', 'old_15_digit') as is_identified
    from final
)

select
    id_number,
    id_format,
    id_status,
    is_identified as is_valid_id,
    id_status = 'rounded' as is_rounded_id,
    case when is_identified then id_18 end as id_number_18,
    case when is_identified then encoded_birth_date end as birth_date,
    case when is_identified then substr(id_18, 1, 6) end as id_region_code,
    case
        when is_identified then substr(id_18, 1, 2) in (
            '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
            '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
            '71', '81', '82'
        )
    end as has_province_prefix,
    case
        when is_identified then case when cast(substr(id_18, 17, 1) as integer) % 2 = 1 then '男' else '女' end
    end as sex_from_id,
    case when is_identified then {{ pseudonymous_key('person', 'id_18') }} end as person_key
from identified
{% endmacro %}
