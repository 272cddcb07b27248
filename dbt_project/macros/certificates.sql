{#- A vocational qualification certificate (职业资格证书) is one with an appraisal level (鉴定等级):
    初级工 / 中级工 / 高级工 / 技师 / 高级技师, or the numbered grades 五级 … 一级. A course-completion
    certificate (结业证书), a 合格证 (创业培训合格证 …), 专项职业能力 or 新型职业农民 certificates
    are not: they do not count toward 户均一证. -#}
{% macro is_vocational_qualification(level) -%}
    coalesce(regexp_full_match(
        replace(replace(trim({{ level }}), '职业资格', ''), '证书', ''),
        '(初级工|中级工|高级工|技师|高级技师|[一二三四五]级|国家职业资格[一二三四五]级)'
    ), false)
{%- endmacro %}
