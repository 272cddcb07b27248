-- Training needs (培训需求) of household members who said they have one (是否有培训需求 = 是),
-- classified into the seven programmes by rules anyone can read and change (docs/defects.md,
-- seeds training_need_keywords and labour_category_programmes):
--   1. the text names a programme (a name or variant of programme_name_variants) → that programme;
--   2. the text holds a keyword ("电焊" → EMPLOY, "养殖" → FARMER)             → its programme,
--      the longest keyword winning;
--   3. the labour category points to programmes (输转 → EMPLOY/BRAND/UPSKILL, 两后生, 致富带头人,
--      农业)                                                                    → its first programme.
-- 新增劳动力 and 非劳动力 point to none: their need must speak for itself. A need no rule
-- places is kept and marked unclassified, with the reason.
with members as (
    select * from {{ ref('int_household_members_resolved') }}
    where has_training_need
),

-- The rules read only the need's text and the labour category: they are applied once per
-- distinct pair (a few hundred at province scale) and joined back to the members.
needs as (
    select distinct
        training_need,
        labour_category
    from members
),

keywords as (
    select * from {{ ref('training_need_keywords') }}
),

programmes as (
    select * from {{ ref('programmes') }}
),

category_programmes as (
    select * from {{ ref('labour_category_programmes') }}
),

by_programme_name as (
    {{ resolve_programme('needs', 'training_need') }}
),

need_texts as (
    select distinct training_need
    from needs
),

keyword_hits as (
    select
        need_texts.training_need,
        keywords.keyword,
        keywords.programme_code,
        programmes.sort_order
    from need_texts
    inner join keywords on contains(upper(need_texts.training_need), upper(keywords.keyword))
    inner join programmes on keywords.programme_code = programmes.programme_code
),

best_keyword as (
    -- the longest keyword; between equally long ones, the programme first in docs/domain.md
    select *
    from keyword_hits
    qualify row_number() over (
        partition by training_need
        order by length(keyword) desc, sort_order asc, keyword asc
    ) = 1
),

classified_needs as (
    select
        by_programme_name.training_need,
        by_programme_name.labour_category,
        by_programme_name.programme_code as programme_from_name,
        best_keyword.keyword as matched_keyword,
        best_keyword.programme_code as programme_from_keyword,
        category_programmes.programme_code as programme_from_category,
        category_programmes.programme_codes as programmes_of_category
    from by_programme_name
    left join best_keyword
        on by_programme_name.training_need = best_keyword.training_need
    left join category_programmes
        on by_programme_name.labour_category = category_programmes.labour_category
),

classified as (
    select
        members.*,
        classified_needs.programme_from_name,
        classified_needs.matched_keyword,
        classified_needs.programme_from_keyword,
        classified_needs.programme_from_category,
        classified_needs.programmes_of_category
    from members
    left join classified_needs
        on
            members.training_need is not distinct from classified_needs.training_need
            and members.labour_category is not distinct from classified_needs.labour_category
),

final as (
    select
        *,
        coalesce(programme_from_name, programme_from_keyword, programme_from_category) as programme_code,
        case
            when programme_from_name is not null then 'programme_name'
            when programme_from_keyword is not null then 'keyword'
            when programme_from_category is not null then 'labour_category'
        end as classification_rule,
        case
            when coalesce(programme_from_name, programme_from_keyword, programme_from_category) is not null
                then null
            when training_need is null then 'need_not_described'
            else 'no_rule_matches'
        end as unclassified_reason
    from classified
)

select
    *,
    programme_code is not null as is_classified
from final
