-- 培训对象人数不一致: a township whose war map or progress report gives a number of persons to
-- train that the real-name ledger does not bear out (see reconcile_target_persons).
with villages as (
    -- the villages whose war-map persons differ from the ledger, largest difference first
    select
        county_code,
        township,
        year,
        count(*) as villages_disagreeing,
        list(
            format(
                '{}{}{} 人',
                coalesce(village, '（未填村）'),
                case when war_map_minus_ledger > 0 then '多 ' else '少 ' end,
                abs(war_map_minus_ledger)
            )
            order by abs(war_map_minus_ledger) desc, village
        ) as villages_zh
    from {{ ref('mart_target_persons_bridge') }}
    where war_map_minus_ledger != 0
    group by all
),

compared as (
    select
        reconciled.*,
        -- one village is already named with its row (war_map_village); more are listed here
        case
            when villages.villages_disagreeing > 1
                then format(
                    '；作战图与台账不一致的村 {} 个，差额最大的：{}',
                    villages.villages_disagreeing,
                    array_to_string(villages.villages_zh[1:3], '、')
                    || case when villages.villages_disagreeing > 3 then '等' else '' end
                )
            else ''
        end as villages_zh
    from {{ ref('reconcile_target_persons') }} as reconciled
    left join villages
        on
            reconciled.county_code = villages.county_code
            and reconciled.township_name is not distinct from villages.township
            and reconciled.year = villages.year
    where reconciled.is_mismatch
),

final as (
    select
        -- the first report that disagrees, else the war map's first village row that disagrees
        {{ dq_finding(
            'target_persons_mismatch',
            village=none,
            source_file='case when report_months_disagreeing > 0 then report_source_file else war_map_source_file end',
            sheet='case when report_months_disagreeing > 0 then report_sheet else war_map_sheet end',
            row_number='case when report_months_disagreeing > 0 then report_row_number else war_map_row_number end',
            entity_key="county_code || '/' || coalesce(township_name, '')",
            programme_code=none,
            month='case when report_months_disagreeing > 0 and war_map_minus_ledger = 0 then first_disagreeing_month'
                ~ ' else make_date(year, 1, 1) end',
            period='cast(year as varchar)'
        ) }}
        format(
            '{}{}{} 年培训对象人数不一致：实名制台账实际培训 {} 人；作战图 {} 人{}{}{}；{}：请核对作战图、台账和进度报表，以台账为准更正。',
            -- the county first: 城关镇 and its like exist in several counties
            coalesce(county_name_zh, county_code),
            coalesce(township_name, '（未填乡镇）'),
            coalesce(cast(year as varchar), '未知'),
            coalesce(cast(ledger_persons as varchar), '未知'),
            coalesce(cast(war_map_persons as varchar), '未填'),
            case
                when war_map_minus_ledger > 0 then format('（多 {} 人）', war_map_minus_ledger)
                when war_map_minus_ledger < 0 then format('（少 {} 人）', -war_map_minus_ledger)
                else '（一致）'
            end,
            case
                when war_map_row_number is not null
                    then format(
                        '，其中{}作战图 {} 人、台账 {} 人',
                        coalesce(war_map_village, '（未填村）'),
                        coalesce(cast(war_map_village_persons as varchar), '未填'),
                        coalesce(cast(war_map_village_ledger_persons as varchar), '未知')
                    )
                else ''
            end,
            villages_zh,
            case
                when report_months = 0 then '无乡镇进度报表'
                when report_months_disagreeing = 0 then format('进度报表 {} 人（一致）', coalesce(cast(report_persons_max as varchar), '未填'))
                else '进度报表与台账不符的月份：' || coalesce(disagreeing_reports_zh, '未能列出')
            end
        ) as detail,
        war_map_persons,
        ledger_persons,
        report_persons_min,
        report_persons_max,
        report_months_disagreeing
    from compared
)

select * from final
