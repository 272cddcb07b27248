-- The columns every check model of models/dq gives dq.findings, in its order: check_name,
-- severity, city_code, county_code, township, village, source_file, sheet, row_number,
-- entity_key, programme_code, period, as_of_month; the model writes detail (and any columns of
-- its own) after them. Severity is the catalog's (seeds/dq_checks.csv), never a literal.
-- The defaults fit a ledger or household-sheet row; an argument set to none gives a typed NULL.
-- month: the month the record belongs to (as_of_month); period defaults to it as YYYY-MM.
{% macro dq_finding(
    check_name,
    city_code='city_code',
    county_code='county_code',
    township='township_name',
    village='village_name',
    source_file='source_file',
    sheet='sheet',
    row_number='row_number',
    entity_key='trainee_key',
    programme_code='programme_code',
    month='start_month',
    period=''
) -%}
    '{{ check_name }}' as check_name,
    {{ dq_check_severity(check_name) }} as severity,
    {{ _dq_column(city_code, 'varchar') }} as city_code,
    {{ _dq_column(county_code, 'varchar') }} as county_code,
    {{ _dq_column(township, 'varchar') }} as township,
    {{ _dq_column(village, 'varchar') }} as village,
    {{ _dq_column(source_file, 'varchar') }} as source_file,
    {{ _dq_column(sheet, 'varchar') }} as sheet,
    {{ _dq_column(row_number, 'integer') }} as row_number,
    {{ entity_key }} as entity_key,
    {{ _dq_column(programme_code, 'varchar') }} as programme_code,
    {%- if period == '' %}
    {{ "strftime(" ~ month ~ ", '%Y-%m')" if month is not none else 'cast(null as varchar)' }} as period,
    {%- else %}
    {{ _dq_column(period, 'varchar') }} as period,
    {%- endif %}
    {{ _dq_column(month, 'date') }} as as_of_month,
{%- endmacro %}

-- A check's severity (error | warning), from the catalog: the one place it is written.
{% macro dq_check_severity(check_name) -%}
    (select severity from {{ ref('dq_checks') }} where check_name = '{{ check_name }}')
{%- endmacro %}

{% macro _dq_column(expression, type) -%}
    {{ expression if expression is not none else 'cast(null as ' ~ type ~ ')' }}
{%- endmacro %}
