-- The Pareto set (is_pareto_top) is the smallest top set of customers by net revenue (ties by customer_id)
-- whose revenue reaches pareto_revenue_share of the total: with it the share is reached, without its last
-- member it is not, and it is a top set (nobody outside it ranks above anybody in it).
with

mart as (

    select * from {{ ref('customer_segments') }}

),

totals as (

    select
        sum(net_revenue) as total_revenue,
        sum(net_revenue) filter (where is_pareto_top) as pareto_revenue,
        max(revenue_rank) filter (where is_pareto_top) as last_pareto_rank,
        min(revenue_rank) filter (where not is_pareto_top) as first_outside_rank,
        count(*) filter (where is_pareto_top) as pareto_customers
    from mart

),

last_member as (

    select mart.net_revenue as last_member_revenue
    from mart
    cross join totals
    where mart.revenue_rank = totals.last_pareto_rank

),

violations as (

    select 'share not reached' as problem
    from totals
    where totals.total_revenue > 0
        and totals.pareto_revenue < {{ var('pareto_revenue_share') }} * totals.total_revenue
    union all
    select 'not minimal' as problem
    from totals
    cross join last_member
    where totals.pareto_revenue - last_member.last_member_revenue
        >= {{ var('pareto_revenue_share') }} * totals.total_revenue
    union all
    select 'not a top set' as problem
    from totals
    where totals.first_outside_rank < totals.last_pareto_rank
    union all
    select 'revenue ranks not 1..n' as problem
    from mart
    having count(distinct revenue_rank) <> count(*) or max(revenue_rank) <> count(*)

)

select * from violations
