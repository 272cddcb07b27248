{#- Schemas are named exactly as configured (staging, marts, dq, reference), not
    <target schema>_<custom schema>: analysts and the contract see these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
