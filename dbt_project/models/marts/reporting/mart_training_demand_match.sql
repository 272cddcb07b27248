-- What people asked for against what they got (点菜式 vs 端菜式), by programme and trade.
-- Demand: household members' classified training needs (UNKNOWN for unclassified needs),
-- with the desired trade (意向工种). Supply: counted enrolments by programme and trade (培训工种).
-- A requester is "trained as asked" when the same person took a counted course in the
-- programme asked for (and, for the trade columns, in the trade asked for).
with needs as (
    select
        trainee_key,
        coalesce(programme_code, 'UNKNOWN') as programme_code,
        coalesce(desired_trade, '未填写') as trade
    from {{ ref('int_training_needs_classified') }}
),

enrolments as (
    select
        trainee_key,
        programme_code,
        coalesce(trade, '未填写') as trade
    from {{ ref('fct_training_enrolments') }}
    where is_counted
),

programmes_taken as (
    select distinct
        trainee_key,
        programme_code
    from enrolments
),

trades_taken as (
    select distinct
        trainee_key,
        programme_code,
        trade
    from enrolments
),

demand as (
    select
        needs.programme_code,
        needs.trade,
        count(distinct needs.trainee_key) as persons_requesting,
        count(distinct programmes_taken.trainee_key) as requesters_trained_in_programme,
        count(distinct trades_taken.trainee_key) as requesters_trained_in_trade
    from needs
    left join programmes_taken
        on needs.trainee_key = programmes_taken.trainee_key and needs.programme_code = programmes_taken.programme_code
    left join trades_taken
        on
            needs.trainee_key = trades_taken.trainee_key
            and needs.programme_code = trades_taken.programme_code
            and needs.trade = trades_taken.trade
    group by needs.programme_code, needs.trade
),

asked as (
    select distinct
        trainee_key,
        programme_code
    from needs
),

supply as (
    select
        enrolments.programme_code,
        enrolments.trade,
        count(*) as enrolments,
        count(*) filter (where asked.trainee_key is not null) as enrolments_as_requested
    from enrolments
    left join asked
        on enrolments.trainee_key = asked.trainee_key and enrolments.programme_code = asked.programme_code
    group by enrolments.programme_code, enrolments.trade
),

final as (
    select
        coalesce(demand.programme_code, supply.programme_code) as programme_code,
        coalesce(demand.trade, supply.trade) as trade,
        coalesce(demand.persons_requesting, 0) as persons_requesting,
        coalesce(demand.requesters_trained_in_programme, 0) as requesters_trained_in_programme,
        coalesce(demand.requesters_trained_in_trade, 0) as requesters_trained_in_trade,
        coalesce(supply.enrolments, 0) as enrolments,
        coalesce(supply.enrolments_as_requested, 0) as enrolments_as_requested,
        coalesce(supply.enrolments, 0) - coalesce(supply.enrolments_as_requested, 0) as enrolments_not_requested,
        round(demand.requesters_trained_in_programme / nullif(demand.persons_requesting, 0), 4)
            as programme_match_rate
    from demand
    full outer join supply
        on demand.programme_code = supply.programme_code and demand.trade = supply.trade
)

select * from final
