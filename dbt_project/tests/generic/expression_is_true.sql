{#- Fails for every row where the expression is not true (a row where it is NULL fails too). -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
