-- 村级采集表核对: per village, the counts the village sheet (村级采集表) gives against the same
-- counts made from the household sheets (户级采集表: households, members, labour force, members
-- with a training need, certificate holders) and from the ledger (persons trained in the
-- sheet's year). One row per village that either names; is_mismatch when any count differs or
-- one side lacks the village.
with village_rows as (
    select * from {{ ref('stg_village_sheets__villages') }}
    where not is_total_row and county_code is not null
    qualify row_number() over (
        partition by county_code, township_name, village_name
        order by reported_on desc nulls last, ingested_at desc, source_file desc, sheet desc, row_number desc
    ) = 1
),

members as (
    select * from {{ ref('int_household_members_resolved') }}
    where county_code is not null
),

household_counts as (
    select
        county_code,
        township_name,
        village_name,
        cast(count(distinct household_number) as integer) as poor_households,
        cast(count(distinct trainee_key) as integer) as poor_population,
        cast(count(distinct trainee_key) filter (
            where labour_category_text is not null and labour_category is distinct from '非劳动力'
        ) as integer) as labour_force,
        cast(count(distinct trainee_key) filter (where has_training_need) as integer) as persons_with_training_need,
        cast(count(distinct trainee_key) filter (where has_certificate) as integer) as certificate_holders
    from members
    group by county_code, township_name, village_name
),

trained as (
    select
        county_code,
        township_name,
        village_name,
        start_year,
        cast(count(distinct coalesce(id_number_18, id_number, trainee_key)) as integer) as trained_persons
    from {{ ref('int_training_enrolments_checked') }}
    where county_code is not null and start_year is not null
    group by county_code, township_name, village_name, start_year
),

places as (
    select
        county_code,
        township_name,
        village_name
    from village_rows
    union
    select
        county_code,
        township_name,
        village_name
    from household_counts
),

joined as (
    select
        places.county_code,
        places.township_name,
        places.village_name,
        village_rows.source_file,
        village_rows.sheet,
        village_rows.row_number,
        village_rows.reported_on,
        village_rows.poor_households as sheet_poor_households,
        village_rows.poor_population as sheet_poor_population,
        village_rows.labour_force as sheet_labour_force,
        village_rows.persons_with_training_need as sheet_persons_with_training_need,
        village_rows.certificate_holders as sheet_certificate_holders,
        village_rows.trained_this_year as sheet_trained_this_year,
        coalesce(household_counts.poor_households, 0) as poor_households,
        coalesce(household_counts.poor_population, 0) as poor_population,
        coalesce(household_counts.labour_force, 0) as labour_force,
        coalesce(household_counts.persons_with_training_need, 0) as persons_with_training_need,
        coalesce(household_counts.certificate_holders, 0) as certificate_holders,
        case when village_rows.reported_on is not null then coalesce(trained.trained_persons, 0) end
            as trained_this_year,
        village_rows.row_number is not null as has_village_row,
        household_counts.county_code is not null as has_household_rows
    from places
    left join village_rows
        on
            places.county_code = village_rows.county_code
            and places.township_name is not distinct from village_rows.township_name
            and places.village_name is not distinct from village_rows.village_name
    left join household_counts
        on
            places.county_code = household_counts.county_code
            and places.township_name is not distinct from household_counts.township_name
            and places.village_name is not distinct from household_counts.village_name
    left join trained
        on
            places.county_code = trained.county_code
            and places.township_name is not distinct from trained.township_name
            and places.village_name is not distinct from trained.village_name
            and year(village_rows.reported_on) = trained.start_year
),

described as (
    select
        *,
        -- each count that differs, as an official reads it: 贫困户数 33（户级表 34）
        concat_ws(
            '，',
            {%- for column, label in [
                ('poor_households', '贫困户数'),
                ('poor_population', '贫困人口数'),
                ('labour_force', '劳动力人数'),
                ('persons_with_training_need', '有培训需求人数'),
                ('certificate_holders', '持证人数'),
            ] %}
                case
                    when sheet_{{ column }} is distinct from {{ column }}
                        then format('{{ label }} {}（户级采集表 {}）', coalesce(cast(sheet_{{ column }} as varchar), '未填'), {{ column }})
                end,
            {%- endfor %}
            case
                when trained_this_year is not null and sheet_trained_this_year is distinct from trained_this_year
                    then format(
                        '本年已培训人数 {}（台账 {}）',
                        coalesce(cast(sheet_trained_this_year as varchar), '未填'),
                        trained_this_year
                    )
            end
        ) as differences_zh
    from joined
),

counties as (
    {{ county_lookup() }}
),

final as (
    select
        counties.city_code,
        counties.county_name_zh,
        described.*,
        not described.has_village_row
        or not described.has_household_rows
        or described.differences_zh != '' as is_mismatch
    from described
    left join counties on described.county_code = counties.county_code
)

select * from final
