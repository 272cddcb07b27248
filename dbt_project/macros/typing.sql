{#- Casting helpers for raw text. The ingest reader already normalised the text (half-width,
    trimmed, ISO dates, YYYY-MM months, plain digits); these only cast, and give null
    rather than an error when a value still does not fit. -#}

{% macro clean_text(expression) -%}
    nullif(trim(regexp_replace({{ expression }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- An ID number as typed, without the spaces people put in it and with a lower-case x raised;
    empty is null. Staging and the ID checks read IDs through this one macro. -#}
{% macro clean_id_number(expression) -%}
    nullif(upper(regexp_replace({{ expression }}, '\s', '', 'g')), '')
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

{#- The 填报日期 an office wrote in the "填报单位 / 填报日期" row above the header, which ingest
    keeps in sheet_title ("填报单位:…局 填报日期:2015年3月4日"); 2015-03-04, 2015/3/4 and 2015.3.4
    too. NULL when the sheet has no such row or the date does not read. -#}
{% macro filled_on_date(expression) -%}
    try_strptime(
        regexp_replace(
            regexp_extract({{ expression }}, '填报日期\s*[:：]?\s*(\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2})', 1),
            '\s*[年月./-]\s*', '-', 'g'
        ),
        '%Y-%m-%d'
    )::date
{%- endmacro %}
