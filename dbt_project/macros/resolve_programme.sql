{#- Adds programme_code, programme_match (exact | contains) and programme_issue to a relation
    with a free-text programme name. A name matches a variant of the seed
    programme_name_variants after normalise_name; failing that, the longest variant
    (4 characters or more) contained in the name decides, when it points to one programme
    only. Anything else stays with a null code and a reason. -#}
{% macro resolve_programme(relation, name_column) -%}
    with base as (
        select * from {{ relation }}
    ),

    names as (
        select distinct {{ normalise_name('base.' ~ name_column) }} as normalised_name
        from base
    ),

    candidates as (
        select
            names.normalised_name,
            programme_names.programme_code,
            programme_names.normalised_name = names.normalised_name as is_exact,
            length(programme_names.normalised_name) as variant_length
        from names
        inner join {{ ref('stg_reference__programme_names') }} as programme_names
            on
                programme_names.normalised_name = names.normalised_name
                or (
                    length(programme_names.normalised_name) >= 4
                    and contains(names.normalised_name, programme_names.normalised_name)
                )
    ),

    best as (
        select *
        from candidates
        qualify rank() over (partition by normalised_name order by is_exact desc, variant_length desc) = 1
    ),

    resolved_names as (
        select
            normalised_name,
            case when count(distinct programme_code) = 1 then min(programme_code) end as programme_code,
            case when bool_or(is_exact) then 'exact' else 'contains' end as programme_match,
            count(distinct programme_code) > 1 as is_ambiguous
        from best
        group by normalised_name
    )

    select
        base.*,
        resolved_names.programme_code,
        case when resolved_names.programme_code is not null then resolved_names.programme_match end
            as programme_match,
        case
            when base.{{ name_column }} is null then 'programme_missing'
            when resolved_names.is_ambiguous then 'programme_name_ambiguous'
            when resolved_names.programme_code is null then 'programme_name_not_recognised'
        end as programme_issue
    from base
    left join resolved_names
        on {{ normalise_name('base.' ~ name_column) }} = resolved_names.normalised_name
{%- endmacro %}
