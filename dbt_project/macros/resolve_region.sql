{#- Adds county_code, city_code and region_issue to a relation holding a county name and,
    optionally, a city name. County and city names are matched on the full or the short name
    of the regions seed (GB/T 2260); the names are unique per level (tested on
    stg_reference__region_names), so the joins never multiply rows. A row whose county cannot
    be resolved is kept with a null county_code and a reason in region_issue. -#}
{% macro resolve_region(relation, county_column='county_name', city_column=none) -%}
    select
        base.*,
        county_names.region_code as county_code,
        {%- if city_column %}
            coalesce(county_names.city_code, city_names.region_code) as city_code,
        {%- else %}
            county_names.city_code as city_code,
        {%- endif %}
        case
            when base.{{ county_column }} is null then 'county_missing'
            when county_names.region_code is null then 'county_not_recognised'
            {%- if city_column %}
                when city_names.region_code is not null and county_names.city_code != city_names.region_code
                    then 'county_not_in_named_city'
            {%- endif %}
        end as region_issue
    from {{ relation }} as base
    left join {{ ref('stg_reference__region_names') }} as county_names
        on
            base.{{ county_column }} = county_names.region_name
            and county_names.region_level = 'county'
    {%- if city_column %}
        left join {{ ref('stg_reference__region_names') }} as city_names
            on
                base.{{ city_column }} = city_names.region_name
                and city_names.region_level = 'city'
    {%- endif %}
{%- endmacro %}
