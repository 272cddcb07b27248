{#- The seven programme codes in docs/domain.md order, lower case as in the raw wide columns
    (plan_employ, task_two_after, ...). Kept in step with orchestration/sources.py. -#}
{% macro programme_codes() -%}
    {{ return(['employ', 'two_after', 'brand', 'farmer', 'leader', 'upskill', 'startup']) }}
{%- endmacro %}

{#- Names (of programmes, institutions) compared without quotes, brackets, spaces or case:
    “两后生”职业技能学历教育培训 = "两后生"职业技能学历教育培训 = 两后生职业技能学历教育培训. -#}
{% macro normalise_name(expression) -%}
    nullif(regexp_replace(upper({{ expression }}), '[\s“”"‘’''「」『』《》()（）\[\]【】]', '', 'g'), '')
{%- endmacro %}
