{#- The counties of the regions seed, for a CTE: code, city and Chinese name. The reconciliation
    models join it to name a county in a finding's sentence and to place it in its city. -#}
{% macro county_lookup() %}
    select
        region_code as county_code,
        city_code,
        name_zh as county_name_zh
    from {{ ref('regions') }}
    where level = 'county'
{% endmacro %}
