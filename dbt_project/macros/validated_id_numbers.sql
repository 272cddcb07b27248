{#- The GB 11643 checks of int_*_id_numbers_validated, on a relation or CTE `ids` of distinct
    id_number: the CTEs after it and the final select. One macro, so household and ledger IDs are
    judged alike while each model is rebuilt only when its own source changes. -#}
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

checked as (
    select
        *,
        case
            when id_format = '18' then cast(try_strptime(substr(id_number, 7, 8), '%Y%m%d') as date)
        end as encoded_birth_date,
        case
            when id_format = '18'
                then substr(id_number, 18, 1) = {{ gb11643_check_character('substr(id_number, 1, 17)') }}
        end as has_valid_check_character
    from shaped
),

final as (
    select
        id_number,
        id_format,
        case
            when id_format = '15' then 'old_15_digit'
            when id_format != '18' then id_format
            when
                encoded_birth_date is null
                or encoded_birth_date < date '1900-01-01'
                or encoded_birth_date > last_day(date '{{ var("last_month") }}')
                then 'bad_birth_date'
            when not has_valid_check_character then 'bad_check_digit'
            else 'valid'
        end as id_status,
        encoded_birth_date
    from checked
)

select
    id_number,
    id_format,
    id_status,
    id_status = 'valid' as is_valid_id,
    id_status = 'rounded' as is_rounded_id,
    case when id_status = 'valid' then id_number end as id_number_18,
    case when id_status = 'valid' then encoded_birth_date end as birth_date,
    case when id_status = 'valid' then substr(id_number, 1, 6) end as id_region_code,
    case
        when id_status = 'valid' then substr(id_number, 1, 2) in (
            '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
            '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
            '71', '81', '82'
        )
    end as has_province_prefix,
    case
        when id_status = 'valid' then case when cast(substr(id_number, 17, 1) as integer) % 2 = 1 then '男' else '女' end
    end as sex_from_id,
    case when id_status = 'valid' then {{ pseudonymous_key('person', 'id_number') }} end as person_key
from final
{% endmacro %}
