{#- GB 11643 check character of the first 17 digits of a resident ID: weights 2^(17-i) mod 11,
    then '10X98765432'[sum mod 11]. Written out term by term so it is plain SQL. -#}
{% macro gb11643_check_character(seventeen_digits) -%}
    {%- set weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] -%}
    substr(
        '10X98765432',
        (
            {%- for weight in weights %}
                cast(substr({{ seventeen_digits }}, {{ loop.index }}, 1) as integer) * {{ weight }}
                {{- ' +' if not loop.last }}
            {%- endfor %}
        ) % 11 + 1,
        1
    )
{%- endmacro %}
