-- 未能导入的文件和数据: everything the ingest left out of raw, one row per failed file, per
-- refused or hidden sheet and per row left out, with the audit's Chinese reason split into the
-- problem and what to do, and the county and city it is attributed to (ingest_file_places).
-- Only the files as they are now (audit.current_files): a file fixed and sent again drops out.
{#- Sheet-level reason codes (orchestration/lib/ingest/reasons.py SHEET_REASONS, plus the
    hidden sheets): their quarantine entries carry the header row but are not a row left out. #}
{%- set sheet_level_codes = [
    'missing_required_column', 'no_header_row', 'wrong_folder', 'unknown_column',
    'unnamed_column_with_data', 'duplicate_column', 'header_only_sheet', 'sheet_ignored',
    'hidden_sheet',
] %}
{#- The sheet codes that mean a sheet's data was not loaded (REJECTING_CODES, hidden sheets). #}
{%- set refusing_codes = ['missing_required_column', 'no_header_row', 'wrong_folder'] %}
{#- The audit tables read, for the column lineage in Dagster (macros/table_metadata.sql). #}
{{ config(meta={'audit_tables': ['current_files', 'quarantine']}) }}
with current_files as (
    select * from {{ audit_table('current_files') }}
),

quarantine as (
    select
        *,
        -- the reason without its trailing English code: "…：请… [code]" → "…：请…"
        regexp_replace(reason, '\s*\[[a-z_]+\]\s*$', '') as reason_zh
    from {{ audit_table('quarantine') }}
    -- a failed file is one finding: its refused sheets are in its error already
    where source_file not in (
        select failed.source_file from current_files as failed
        where failed.status = 'failed'
    )
),

failed_files as (
    select
        'file' as problem_level,
        source_file,
        source as source_name,
        cast(null as varchar) as sheet,
        cast(null as integer) as row_number,
        coalesce(regexp_extract(error, '\[([a-z_]+)\]\s*$', 1), 'failed') as reason_code,
        coalesce(
            nullif(regexp_replace(error, '\s*\[[a-z_]+\]\s*$', ''), ''), '文件未能读取（原因未记录）'
        ) as reason_zh,
        '请用 Excel 或 WPS 打开检查，另存为 .xlsx 后重新报送' as default_action
    from current_files
    where status = 'failed'
),

refused_sheets as (
    select
        'sheet' as problem_level,
        source_file,
        any_value(source) as source_name,
        sheet,
        cast(null as integer) as row_number,
        string_agg(distinct reason_code, ',' order by reason_code) as reason_code,
        string_agg(distinct reason_zh, '；' order by reason_zh) as reason_zh,
        '请按说明修改该工作表后重新报送' as default_action
    from quarantine
    where reason_code in ({{ "'" ~ refusing_codes | join("', '") ~ "'" }})
    group by source_file, sheet
),

hidden_sheets as (
    select
        'sheet' as problem_level,
        source_file,
        any_value(source) as source_name,
        sheet,
        cast(null as integer) as row_number,
        'hidden_sheet' as reason_code,
        format(
            '工作表“{}”是隐藏工作表{}，未导入',
            sheet,
            coalesce('（' || any_value(raw_value) || ' 行有内容）', '')
        ) as reason_zh,
        '如其中是要统计的数据，请取消隐藏后重新报送；如不需要，请删除该工作表' as default_action
    from quarantine
    where reason_code = 'hidden_sheet'
    group by source_file, sheet
),

left_out_rows as (
    select
        'row' as problem_level,
        source_file,
        any_value(source) as source_name,
        sheet,
        row_number,
        string_agg(distinct reason_code, ',' order by reason_code) as reason_code,
        string_agg(distinct reason_zh, '；' order by reason_zh) as reason_zh,
        '请补全该行后重新报送' as default_action
    from quarantine
    where
        row_number is not null
        and column_name is null
        and reason_code not in ({{ "'" ~ sheet_level_codes | join("', '") ~ "'" }})
    group by source_file, sheet, row_number
),

problems as (
    select * from failed_files
    union all
    select * from refused_sheets
    union all
    select * from hidden_sheets
    union all
    select * from left_out_rows
),

split as (
    select
        *,
        -- the audit's sentences say "problem：请 what to do"; keep both halves
        strpos(reason_zh, '：请') as action_at
    from problems
),

final as (
    select
        split.problem_level,
        split.source_file,
        split.source_name,
        split.sheet,
        split.row_number,
        split.reason_code,
        places.county_code,
        places.city_code,
        places.attributed_by,
        -- an ID number quoted in an error message is masked like everywhere else
        regexp_replace(
            case when split.action_at > 0 then left(split.reason_zh, split.action_at - 1) else split.reason_zh end,
            '(\d{6})\d{5,8}(\d{3}[\dXx])',
            '\1********\2',
            'g'
        ) as problem_zh,
        case
            when split.action_at > 0 then substr(split.reason_zh, split.action_at + 1)
            else split.default_action
        end as action_zh
    from split
    left join {{ ref('ingest_file_places') }} as places on split.source_file = places.source_file
)

select * from final
