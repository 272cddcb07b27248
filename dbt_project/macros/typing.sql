{#- Casting helpers for raw text. The ingest reader already normalised the text (half-width,
    trimmed, ISO dates, YYYY-MM months, plain digits); these only cast, and give null
    rather than an error when a value still does not fit. -#}

{% macro clean_text(expression) -%}
    nullif(trim(regexp_replace({{ expression }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Place names: no spaces at all inside ("城关 镇" is 城关镇). -#}
{% macro clean_place_name(expression) -%}
    nullif(regexp_replace({{ expression }}, '\s+', '', 'g'), '')
{%- endmacro %}

{% macro to_count(expression) -%}
    try_cast(replace(trim({{ expression }}), ',', '') as integer)
{%- endmacro %}

{% macro to_amount(expression) -%}
    try_cast(replace(trim({{ expression }}), ',', '') as decimal(14, 2))
{%- endmacro %}

{% macro to_date(expression) -%}
    try_cast(trim({{ expression }}) as date)
{%- endmacro %}

{#- 'YYYY-MM' to the first day of the month. -#}
{% macro to_month(expression) -%}
    try_cast(trim({{ expression }}) || '-01' as date)
{%- endmacro %}

{#- Yes/no as offices write it (是/否, 有/无, √/×, Y/N, 1/0 ...); anything else is null. -#}
{% macro to_yes_no(expression) -%}
    case
        when upper(trim({{ expression }})) in (
            '是', '有', '√', '✓', '✔', 'Y', 'YES', 'TRUE', 'T', '1', '已', '已结业', '已取得', '持有', '持证'
        ) then true
        when upper(trim({{ expression }})) in (
            '否', '无', '×', '✗', '✘', 'N', 'NO', 'FALSE', 'F', '0', '未', '未结业', '未取得', '没有', '未持证'
        ) then false
    end
{%- endmacro %}
