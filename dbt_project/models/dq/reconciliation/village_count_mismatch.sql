-- 村级采集表与户级采集表不符: a village whose counts in the village sheet differ from the
-- household sheets (or the ledger), or that only one of them lists (reconcile_village_counts).
with compared as (
    select * from {{ ref('reconcile_village_counts') }}
    where is_mismatch
),

final as (
    select
        {{ dq_finding(
            'village_count_mismatch',
            entity_key="county_code || '/' || coalesce(township_name, '') || '/' || coalesce(village_name, '')",
            programme_code=none,
            month="cast(date_trunc('month', reported_on) as date)",
            period="strftime(reported_on, '%Y-%m')"
        ) }}
        -- the county first: 城关镇 and its like exist in several counties
        coalesce(county_name_zh, county_code) || coalesce(township_name, '') || coalesce(village_name, '（未填村名）')
        || case
            when not has_village_row then '在户级采集表中有 ' || poor_population || ' 人，但村级采集表没有这个村：请补报该村的村级采集表。'
            when not has_household_rows then '在村级采集表中，但户级采集表没有这个村的任何人员：请补报户级采集表或核对村名。'
            else '村级采集表与户级采集表不符：' || differences_zh || '：请按户级采集表逐户核实后更正村级表。'
        end as detail,
        sheet_poor_households,
        poor_households,
        sheet_poor_population,
        poor_population,
        sheet_labour_force,
        labour_force,
        sheet_persons_with_training_need,
        persons_with_training_need,
        sheet_certificate_holders,
        certificate_holders,
        sheet_trained_this_year,
        trained_this_year
    from compared
)

select * from final
