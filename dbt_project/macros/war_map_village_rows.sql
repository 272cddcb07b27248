{#- The war maps' village rows that hold, for a CTE: no total rows, county and year known, and
    a village planned twice for a year (a corrected file) by its latest ingested row. The target
    persons reconciliation and the village bridge compare the same rows. -#}
{% macro war_map_village_rows() %}
    select * from {{ ref('stg_war_maps__village_plans') }}
    where not is_total_row and county_code is not null and plan_year is not null
    qualify row_number() over (
        partition by county_code, township_name, village_name, plan_year
        order by ingested_at desc, source_file desc, sheet desc, row_number desc
    ) = 1
{% endmacro %}
