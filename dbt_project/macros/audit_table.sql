{#- The ingest's own record (orchestration/lib/ingest/audit.py: audit.current_files,
    audit.quarantine), read by the dq/ingest models so that a file, sheet or row that could not
    be loaded becomes a finding. Not a dbt source on purpose: the same ingest assets that fill
    raw.* write these tables, and as sources Dagster would draw them as orphan external assets.
    The dq/ingest models read every raw table too, which puts them downstream of every
    raw/<source> asset, so a run that re-ingests any source rebuilds them. -#}
{% macro audit_table(name) -%}
    audit.{{ name }}
{%- endmacro %}
