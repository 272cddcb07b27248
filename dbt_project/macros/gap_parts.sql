-- The parts of a report-vs-ledger difference as an official reads them, largest first
-- (marts.mart_report_gap_bridge): "差额 3 人次中 2 人次为重复培训记录，1 人次无法解释".
-- Columns of the bridge, given with the relation's alias (e.g. 'bridge.').
{% macro gap_parts_zh(prefix='') -%}
    case
        when len(list_filter({{ _gap_parts(prefix) }}, part -> part.n > 0)) = 1
            then format(
                '差额 {} 人次均{}',
                abs({{ prefix }}difference),
                list_filter({{ _gap_parts(prefix) }}, part -> part.n > 0)[1].zh
            )
        else format(
            '差额 {} 人次中 {}',
            abs({{ prefix }}difference),
            array_to_string(
                list_transform(
                    list_reverse_sort(list_filter({{ _gap_parts(prefix) }}, part -> part.n > 0)),
                    part -> format('{} 人次{}', part.n, part.zh)
                ),
                '，'
            )
        )
    end
{%- endmacro %}

{% macro _gap_parts(prefix) -%}
    [
        {'n': abs({{ prefix }}part_duplicates), 'zh': '为重复培训记录'},
        {'n': abs({{ prefix }}part_not_counted), 'zh': '为开班日期缺失或有误、未计入的记录'},
        {'n': abs({{ prefix }}part_timing), 'zh': '为报表填报时已开班的以后月份记录'},
        {'n': abs({{ prefix }}part_unexplained), 'zh': '无法解释'}
    ]
{%- endmacro %}
