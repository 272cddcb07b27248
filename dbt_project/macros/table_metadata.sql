{#
  Post-hook of every model and seed (dbt_project.yml): logs, on dbt's own connection, the columns
  and types of the relation just built, its row count (tables and seeds; a view would run its
  query), the relations its SQL reads (its parents, through ephemeral models) and the columns of
  those no earlier post-hook of the run logged (sources, nodes not selected, and the audit tables
  named in its meta.audit_tables), as one line "training-table-metadata {json}". Dagster turns
  that line into the column types, row count and column-level lineage of the asset's
  materialization (orchestration/lib/transform/dbt_metadata.py): nothing else opens the warehouse
  while dbt writes it. Two or three queries per node.
#}
{% macro log_table_metadata() %}
  {% if execute %}
    {% set reads = [] %}
    {% do table_metadata_reads(model.get('depends_on', {}).get('nodes', []), reads) %}
    {#- Columns of what it reads that no post-hook of this run logged before: sources, nodes not
        selected (a node selected was built, and logged, before the nodes that read it). #}
    {% set parents = {} %}
    {% for node in reads if node.unique_id not in selected_resources %}
      {% set relation = api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.identifier or node.alias
      ) %}
      {% do parents.update({node.unique_id: table_metadata_columns(relation)}) %}
    {% endfor %}
    {#- The ingest's audit tables are no dbt node (macros/audit_table.sql): listed in meta.audit_tables. #}
    {% for name in (config.get('meta') or {}).get('audit_tables', []) %}
      {% set relation = api.Relation.create(database=this.database, schema='audit', identifier=name) %}
      {% do parents.update({'audit.' ~ name: table_metadata_columns(relation)}) %}
    {% endfor %}
    {% set row_count = none %}
    {% if config.get('materialized') in ('table', 'incremental', 'seed') %}
      {% set row_count = run_query('select count(*) from ' ~ this).columns[0].values()[0] | int %}
    {% endif %}
    {% set line = {
      'unique_id': model.unique_id,
      'columns': table_metadata_columns(this),
      'row_count': row_count,
      'reads': reads | map(attribute='unique_id') | list,
      'parents': parents,
    } %}
    {% do log('training-table-metadata ' ~ tojson(line), info=true) %}
  {% endif %}
{% endmacro %}

{% macro table_metadata_columns(relation) %}
  {% set columns = [] %}
  {% for column in adapter.get_columns_in_relation(relation) %}
    {% do columns.append([column.name, column.dtype]) %}
  {% endfor %}
  {{ return(columns) }}
{% endmacro %}

{# The relations (models, seeds, sources) the nodes' SQL reads; ephemeral models are read through. #}
{% macro table_metadata_reads(unique_ids, found) %}
  {% for unique_id in unique_ids %}
    {% set node = graph.nodes.get(unique_id) or graph.sources.get(unique_id) %}
    {% if node and node.resource_type in ('model', 'seed', 'snapshot', 'source') %}
      {% if node.resource_type == 'model' and node.config.materialized == 'ephemeral' %}
        {% do table_metadata_reads(node.depends_on.nodes, found) %}
      {% elif node not in found %}
        {% do found.append(node) %}
      {% endif %}
    {% endif %}
  {% endfor %}
{% endmacro %}
