-- The wording of "cannot count toward the task" comes from one seed (dq_disqualifying_checks):
-- a check's finding ends with the seed's reason_zh when the check is listed there, with
-- nothing otherwise, so the findings say 不能计入任务 exactly where the marts' valid count
-- leaves the record out.
{% macro disqualifying_reason(check_name) -%}
    coalesce(
        (select reason_zh from {{ ref('dq_disqualifying_checks') }} where check_name = '{{ check_name }}'),
        ''
    )
{%- endmacro %}
