{#- Enumerations written many ways, mapped to the canonical Chinese values of docs/sources.md.
    A value that fits none stays null (the raw text is kept beside it in staging). -#}

{% macro canonical_labour_category(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} like '%非劳动力%' or {{ expression }} like '%无劳动能力%' then '非劳动力'
        when {{ expression }} like '%两后生%' then '两后生'
        when {{ expression }} like '%带头人%' or {{ expression }} like '%致富%' then '致富带头人'
        when {{ expression }} like '%输转%' or {{ expression }} like '%转移%' then '输转就业劳动力'
        when {{ expression }} like '%农业%' or {{ expression }} like '%务农%' then '从事农业生产和服务的劳动力'
        when {{ expression }} like '%新增%' then '新增劳动力'
    end
{%- endmacro %}

{% macro canonical_employment_status(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} like '%务工%' or {{ expression }} like '%打工%' then '务工'
        when {{ expression }} like '%务农%' then '务农'
        when {{ expression }} like '%个体%' then '个体经营'
        when {{ expression }} like '%在校%' or {{ expression }} like '%学生%' then '在校'
        when {{ expression }} like '%无业%' or {{ expression }} like '%待业%' or {{ expression }} like '%失业%' then '无业'
        else {{ expression }}
    end
{%- endmacro %}

{% macro canonical_sex(expression) -%}
    case
        when {{ expression }} like '男%' then '男'
        when {{ expression }} like '女%' then '女'
    end
{%- endmacro %}

{% macro canonical_institution_type(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} like '%公办%' then '公办职业院校'
        when {{ expression }} like '%技工%' then '技工院校'
        when {{ expression }} like '%民办%' then '民办培训机构'
        else '其他'
    end
{%- endmacro %}

{% macro canonical_fund_source(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} like '%就业%' then '就业资金'
        when {{ expression }} like '%扶贫%' then '扶贫资金'
        when {{ expression }} like '%农业%' then '农业专项资金'
        else '其他'
    end
{%- endmacro %}

{#- 满意 / 基本满意 / 不满意, and the score 3 / 2 / 1 used for averages. -#}
{% macro canonical_satisfaction(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} like '%不满意%' then '不满意'
        when {{ expression }} like '%基本%' or {{ expression }} like '%一般%' or {{ expression }} like '%较满意%'
            then '基本满意'
        when {{ expression }} like '%满意%' then '满意'
    end
{%- endmacro %}

{% macro satisfaction_score(canonical_expression) -%}
    case {{ canonical_expression }} when '满意' then 3 when '基本满意' then 2 when '不满意' then 1 end
{%- endmacro %}

{#- A totals row (合计 / 小计 / 总计) in any of the place columns. -#}
{% macro is_total_row(columns) -%}
    coalesce(
        {%- for column in columns %}
            regexp_matches({{ column }}, '(合计|小计|总计)'){{ ',' if not loop.last }}
        {%- endfor %},
        false
    )
{%- endmacro %}

{#- Region key shared by every fact and dim_region: the county code, then township and
    village names ("620121/城关镇/张家村"); UNKNOWN when the county is not resolved. -#}
{% macro region_key(county_code, township_name, village_name) -%}
    case
        when {{ county_code }} is null then 'UNKNOWN'
        when {{ township_name }} is null then {{ county_code }}
        when {{ village_name }} is null then {{ county_code }} || '/' || {{ township_name }}
        else {{ county_code }} || '/' || {{ township_name }} || '/' || {{ village_name }}
    end
{%- endmacro %}
