-- No text value in any marts table looks like a resident ID number (17 digits and a check
-- character): the published marts carry pseudonymous keys only. Runs after every mart is
-- built; in Dagster it is an asset check of fct_training_enrolments. A warning, not a stop:
-- such a value comes from free text the field typed (an ID in a 机构名称 cell), and the publish
-- step masks it in the analysts' snapshot; this test says in which column it arrived.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_training_enrolments'}}}) }}
-- depends_on: {{ ref('dim_household') }}
-- depends_on: {{ ref('dim_institution') }}
-- depends_on: {{ ref('dim_month') }}
-- depends_on: {{ ref('dim_programme') }}
-- depends_on: {{ ref('dim_region') }}
-- depends_on: {{ ref('dim_trainee') }}
-- depends_on: {{ ref('fct_reported_progress') }}
-- depends_on: {{ ref('fct_task_allocations') }}
-- depends_on: {{ ref('fct_training_enrolments') }}
-- depends_on: {{ ref('fct_war_map_plans') }}
-- depends_on: {{ ref('mart_city_attainment_monthly') }}
-- depends_on: {{ ref('mart_household_certificate_coverage') }}
-- depends_on: {{ ref('mart_institution_performance') }}
-- depends_on: {{ ref('mart_province_attainment_monthly') }}
-- depends_on: {{ ref('mart_target_attainment_monthly') }}
-- depends_on: {{ ref('mart_training_demand_match') }}
-- depends_on: {{ ref('mart_training_funding') }}
{%- set text_columns = [] %}
{#- `is sameas true`: only a real dbt run queries the catalogue (not a parse, not a linter) #}
{%- if execute is sameas true %}
    {%- set found = run_query(
        "select table_name, column_name from information_schema.columns"
        ~ " where table_catalog = current_database() and table_schema = 'marts'"
        ~ " and data_type = 'VARCHAR' order by table_name, column_name"
    ) %}
    {%- set text_columns = found.rows %}
{%- endif %}

-- an empty row set to start from, then every text column of every marts table; each value's
-- length is tested first (a byte count, read, not scanned: half the time at province scale, where
-- most codes are shorter than an ID)
select
    null as table_name,
    null as column_name,
    null as id_shaped_value
where false
{%- for table_name, column_name in text_columns %}
union all
select
    '{{ table_name }}' as table_name,
    '{{ column_name }}' as column_name,
    "{{ column_name }}" as id_shaped_value
from marts."{{ table_name }}"
where strlen("{{ column_name }}") >= 18 and regexp_matches("{{ column_name }}", '[0-9]{17}[0-9Xx]')
{%- endfor %}
