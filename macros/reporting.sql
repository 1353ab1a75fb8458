{#- The lifecycle segments within each value of one column (segment_by_region, segment_by_channel): a select of
    one row per (column value, lifecycle_segment) that has customers, with customers and net revenue and their
    shares of that value's customers and revenue (each value's shares sum to 1; revenue_share is null where the
    value has no revenue). `relation` holds one row per customer with the column, lifecycle_segment, net_revenue
    and as_of_date. -#}
{% macro segment_shares_within(relation, column) -%}
    select
        {{ column }},
        lifecycle_segment,
        customers,
        cast(customers as double) / sum(customers) over (partition by {{ column }}) as customer_share,
        net_revenue,
        cast(net_revenue as double)
        / nullif(cast(sum(net_revenue) over (partition by {{ column }}) as double), 0) as revenue_share,
        as_of_date
    from (
        select
            {{ column }},
            lifecycle_segment,
            count(*) as customers,
            sum(net_revenue) as net_revenue,
            max(as_of_date) as as_of_date
        from {{ relation }}
        group by {{ column }}, lifecycle_segment
    ) as segments_within
{%- endmacro %}


{#- The first day of the month numbered `index` = year * 12 + month (January of year 0 is 1), as a date: the inverse
    of extract(year) * 12 + extract(month), for month arithmetic that reads the same on every engine. -#}
{% macro month_from_index(index) -%}
    cast(
        cast(cast(floor(({{ index }} - 1) / 12) as integer) as {{ dbt.type_string() }}) || '-'
        || lpad(cast(cast(({{ index }} - 1) % 12 + 1 as integer) as {{ dbt.type_string() }}), 2, '0') || '-01'
        as date
    )
{%- endmacro %}
