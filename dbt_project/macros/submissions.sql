{#- Revised submissions (修订): when a region's period arrives in more than one row (a corrected
    file sent beside the first), the winner is the row of the greater file name (code-point
    order), then the greater sheet name, then the later row. Deterministic: a warehouse rebuilt
    from the same raw folder picks the same winner, whatever order the files were loaded in.
    The others are is_superseded, with the winner's file, sheet and row. Totals rows and rows
    without a county or period take no part. -#}
{% macro rank_submissions(relation, keys, period) -%}
    with candidates as (
        select
            *,
            not is_total_row and county_code is not null and {{ period }} is not null as is_candidate
        from {{ relation }}
    )

    select
        candidates.*,
        coalesce(candidates.is_candidate and row_number() over submissions > 1, false) as is_superseded,
        case when candidates.is_candidate then first_value(candidates.source_file) over submissions end
            as winning_source_file,
        case when candidates.is_candidate then first_value(candidates.sheet) over submissions end as winning_sheet,
        case when candidates.is_candidate then first_value(candidates.row_number) over submissions end
            as winning_row_number
    from candidates
    window submissions as (
        partition by candidates.is_candidate{% for key in keys %}, candidates.{{ key }}{% endfor %}
        order by candidates.source_file desc, candidates.sheet desc, candidates.row_number desc
    )
{%- endmacro %}

{#- Which of a person's (or a household's) household-sheet rows is the latest registration: the
    latest collected, undated last, then the latest loaded; file, sheet and row break a tie, so
    a rebuild picks the same row. An ORDER BY list for a window over household member rows. -#}
{% macro latest_registration_first() -%}
    collected_on desc nulls last, ingested_at desc, source_file asc, sheet asc, row_number asc
{%- endmacro %}
