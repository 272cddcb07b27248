-- Target attainment arithmetic (任务完成进度), written once for the county, city and province
-- attainment marts and the report-vs-ledger reconciliation.
--   rate: done / target, 4 decimals (NULL without a target)
--   gap: the pro-rata line (month/12 of the annual target) minus done, 2 decimals
--   report_minus_ledger: what the progress report says minus what the ledger counts
{% macro attainment(measure, done, target=none, month_number=none, reported=none) -%}
    {%- if measure == 'rate' -%}
        round({{ done }} / nullif({{ target }}, 0), 4)
    {%- elif measure == 'gap' -%}
        round({{ target }} * {{ month_number }} / 12.0 - {{ done }}, 2)
    {%- elif measure == 'report_minus_ledger' -%}
        cast({{ reported }} - {{ done }} as integer)
    {%- else -%}
        {{ exceptions.raise_compiler_error("attainment(): unknown measure " ~ measure) }}
    {%- endif -%}
{%- endmacro %}

-- The measures of a rolled-up attainment mart (city, province), after its key columns: sums of
-- the rows below it (columns of the same names), the rates and gaps worked out again on the sums.
{% macro rolled_up_attainment_measures() -%}
    cast(annual_target as integer) as annual_target,
    cast(enrolled_in_month as integer) as enrolled_in_month,
    cast(enrolled_ytd as integer) as enrolled_ytd,
    {{ attainment('rate', 'enrolled_ytd', target='annual_target') }} as attainment_rate,
    expected_rate,
    {{ attainment('gap', 'enrolled_ytd', target='annual_target', month_number='month(month)') }} as gap,
    cast(reported_ytd as integer) as reported_ytd,
    {{ attainment('report_minus_ledger', 'enrolled_ytd', reported='reported_ytd') }} as report_minus_ledger,
    cast(counties as integer) as counties,
    cast(counties_reporting as integer) as counties_reporting,
    cast(counties_behind as integer) as counties_behind,
    cast(valid_enrolled_ytd as integer) as valid_enrolled_ytd,
    {{ attainment('rate', 'valid_enrolled_ytd', target='annual_target') }} as valid_attainment_rate,
    {{ attainment('gap', 'valid_enrolled_ytd', target='annual_target', month_number='month(month)') }} as valid_gap
{%- endmacro %}
