-- Historical lifetime value (net revenue to date), revenue share and the Pareto set: customers ranked by
-- net revenue (ties by customer_id) are in the Pareto set while the revenue ranked above them is still short of
-- `pareto_revenue_share` of the total, which makes it the smallest top set reaching that share.
-- Value tier A = the Pareto set, B = the next `value_tier_b_revenue_share` of revenue, C = the rest.
with

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

ranked as (

    select
        customer_id,
        net_revenue,
        sum(net_revenue) over () as total_net_revenue,
        coalesce(sum(net_revenue) over (
            order by net_revenue desc, customer_id asc rows between unbounded preceding and 1 preceding
        ), 0) as revenue_ranked_above,
        cast(row_number() over (order by net_revenue desc, customer_id asc) as bigint) as revenue_rank
    from order_history

),

tiered as (

    select
        customer_id,
        case
            when net_revenue > 0
                and revenue_ranked_above < cast({{ var('pareto_revenue_share') }} as decimal(9, 6)) * total_net_revenue
                then 'A'
            when net_revenue > 0
                and revenue_ranked_above < cast(
                    {{ var('pareto_revenue_share') }} + {{ var('value_tier_b_revenue_share') }} as decimal(9, 6)
                ) * total_net_revenue
                then 'B'
            else 'C'
        end as value_tier,
        net_revenue as historical_clv,
        round(cast(net_revenue as double) / nullif(cast(total_net_revenue as double), 0), 6) as revenue_share,
        revenue_rank,
        net_revenue > 0
        and revenue_ranked_above < cast({{ var('pareto_revenue_share') }} as decimal(9, 6)) * total_net_revenue
            as is_pareto_top
    from ranked

)

select * from tiered
