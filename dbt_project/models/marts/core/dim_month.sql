-- Calendar months 2015-01 … 2020-12 (vars first_month, last_month), with the share of the
-- year elapsed at each month's end (the pro-rata line), and an unknown member (1900-01-01)
-- for courses without a usable start date.
with months as (
    select cast(month_start as date) as month
    from generate_series(
        timestamp '{{ var("first_month") }}', timestamp '{{ var("last_month") }}', interval 1 month
    ) as calendar (month_start)
),

known as (
    select
        month,
        year(month) as year,
        month(month) as month_number,
        quarter(month) as quarter_number,
        cast(year(month) as varchar) || '年' || cast(month(month) as varchar) || '月' as month_label_zh,
        last_day(month) as month_end,
        round(month(month) / 12.0, 4) as expected_rate,
        false as is_unknown
    from months
),

unknown as (
    select
        date '1900-01-01' as month,
        null as year,
        null as month_number,
        null as quarter_number,
        '未知月份' as month_label_zh,
        null as month_end,
        null as expected_rate,
        true as is_unknown
)

select * from known
union all
select * from unknown
