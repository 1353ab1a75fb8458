-- Predicted value per customer with at least one purchase, and the predicted spend tier: customers ranked by
-- predicted_clv_365d, the top predicted_tier_high_top_share are `high`, down to the top
-- predicted_tier_medium_top_share `medium`, the rest `low`. Ties share a rank, so equal predictions get the same tier.
-- Null predictions (a model that did not converge, or an engine without dbt Python models) give a null tier.
with

scored as (

    {%- if python_models_enabled() %}

        select * from {{ ref('int_customers__clv_scored') }}

    {%- else %}

    {#- an engine without dbt Python models (Spark in session mode): the predictions are null, the build goes on
        (the build summary says so; docs/other-engines.md) #}
    select
        customer_id,
        {%- for column in ['p_alive', 'churn_probability', 'predicted_purchases_90d', 'predicted_purchases_365d',
            'predicted_avg_order_value', 'predicted_clv_365d', 'p_purchase_next_30d'] %}
        cast(null as double) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_customers__purchase_summary') }}

    {%- endif %}

),

ranked as (

    select
        *,
        rank() over (order by predicted_clv_365d desc) as clv_rank,
        count(predicted_clv_365d) over () as customers_predicted
    from scored

),

tiered as (

    select
        customer_id,
        p_alive,
        churn_probability,
        predicted_purchases_90d,
        predicted_purchases_365d,
        predicted_avg_order_value,
        predicted_clv_365d,
        p_purchase_next_30d,
        case
            when predicted_clv_365d is null then null
            when clv_rank - 1
                < cast({{ var('predicted_tier_high_top_share') }} as decimal(9, 6)) * customers_predicted
                then 'high'
            when clv_rank - 1
                < cast({{ var('predicted_tier_medium_top_share') }} as decimal(9, 6)) * customers_predicted
                then 'medium'
            else 'low'
        end as predicted_spend_tier
    from ranked

)

select * from tiered
