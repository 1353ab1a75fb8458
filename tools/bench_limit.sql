-- The limit of `make bench` (tools/bench.py): the mart's core columns computed from the raw files in one
-- hand-written DuckDB statement, outside dbt: no intermediate tables, no tests, no audit, no rejected-row tables.
-- It does the same work as the project (text columns parsed, bad, duplicate, conflicting and superseded rows
-- dropped by the same rules, codes and provinces mapped once per distinct spelling) so that its time is an honest
-- lower bound of what the models phase has to do. The result goes to a Parquet file so that nothing is optimised
-- away. Rules: models/staging/shop/base/*.sql, models/intermediate/orders/int_orders__valued.sql and
-- models/intermediate/customers/int_customers__{order_history,rfm_scored,channel,region,lifecycle_segmented}.sql.
-- A raw value is trimmed, and null when empty or a null word (macros/parsing.sql: clean_text, null_words).
--
-- The placeholders in double braces are filled in by tools/bench_raw.py (render_limit_sql): the table readers (Parquet
-- or CSV, one file or a folder), the seed files, the as-of and build dates and the dbt vars of dbt_project.yml.
copy (

    with

    -- customers: one row per kept customer ------------------------------------------------------------
    customers_cleaned as (
        select
            case when length(trim(customer_id)) <= 4 and regexp_full_match(trim(customer_id), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(customer_id), '') end as customer_id,
            case when length(trim(full_name)) <= 4 and regexp_full_match(trim(full_name), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(full_name), '') end as full_name,
            case when length(trim(email)) <= 4 and regexp_full_match(trim(email), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(email), '') end as email_text,
            case when length(trim(phone)) <= 4 and regexp_full_match(trim(phone), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(phone), '') end as phone_text,
            case when length(trim(gender)) <= 4 and regexp_full_match(trim(gender), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(gender), '') end as gender_text,
            case when length(trim(birth_date)) <= 4 and regexp_full_match(trim(birth_date), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(birth_date), '') end as birth_date_text,
            case when length(trim(signup_at)) <= 4 and regexp_full_match(trim(signup_at), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(signup_at), '') end as signup_at_text,
            case when length(trim(province)) <= 4 and regexp_full_match(trim(province), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(province), '') end as province_text,
            case when length(trim(customer_type)) <= 4 and regexp_full_match(trim(customer_type), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(customer_type), '') end as customer_type_text,
            case when length(trim(company_name)) <= 4 and regexp_full_match(trim(company_name), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(company_name), '') end as company_name,
            case when length(trim(tags)) <= 4 and regexp_full_match(trim(tags), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(tags), '') end as tags_text,
            case when length(trim(acquisition_channel)) <= 4 and regexp_full_match(trim(acquisition_channel), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(acquisition_channel), '') end as acquisition_channel_text,
            case when length(trim(marketing_consent)) <= 4 and regexp_full_match(trim(marketing_consent), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(marketing_consent), '') end as marketing_consent_text
        from {{ customers }}
    ),

    customers_typed as (
        select
            *,
            case
                when regexp_matches(signup_at_text, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
                    then timezone('{{ source_timezone }}', try_cast(signup_at_text as timestamptz))
                else try_cast(signup_at_text as timestamp)
            end as signup_at,
            coalesce(
                try_cast(birth_date_text as date),
                cast(case
                    when regexp_matches(birth_date_text, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
                        then timezone('{{ source_timezone }}', try_cast(birth_date_text as timestamptz))
                    else try_cast(birth_date_text as timestamp)
                end as date)
            ) as birth_date
        from customers_cleaned
    ),

    customers_valid as (
        select *
        from customers_typed
        where
            customer_id is not null
            and signup_at is not null
            and not (birth_date_text is not null and birth_date is null)
            and signup_at >= cast('{{ earliest_valid_date }}' as date)
            and cast(signup_at as date) <= cast('{{ build_date }}' as date)
    ),

    -- an id with several valid rows is kept once when they are all identical, dropped when they differ; only the
    -- repeated ids (a small share) need the comparison
    customers_grouped as (
        select
            customer_id,
            count(*) as row_count,
            any_value(province_text) as province_text,
            any_value(cast(signup_at as date)) as signup_date
        from customers_valid
        group by customer_id
    ),

    customers_conflicting as (
        select customer_id
        from customers_valid
        semi join (select customer_id from customers_grouped where row_count > 1) as repeated using (customer_id)
        group by customer_id
        having count(distinct (
            full_name, email_text, phone_text, gender_text, birth_date_text, signup_at_text, province_text,
            customer_type_text, company_name, tags_text, acquisition_channel_text, marketing_consent_text
        )) > 1
    ),

    customers_kept as (
        select customer_id, province_text, signup_date
        from customers_grouped
        anti join customers_conflicting using (customer_id)
    ),

    -- orders: one row per kept order --------------------------------------------------------------------
    orders_cleaned as (
        select
            case when length(trim(order_id)) <= 4 and regexp_full_match(trim(order_id), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(order_id), '') end as order_id,
            case when length(trim(customer_id)) <= 4 and regexp_full_match(trim(customer_id), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(customer_id), '') end as customer_id,
            case when length(trim(ordered_at)) <= 4 and regexp_full_match(trim(ordered_at), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(ordered_at), '') end as ordered_at_text,
            case when length(trim(status)) <= 4 and regexp_full_match(trim(status), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(status), '') end as status_text,
            case when length(trim(channel)) <= 4 and regexp_full_match(trim(channel), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(channel), '') end as channel_text,
            case when length(trim(ship_province)) <= 4 and regexp_full_match(trim(ship_province), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(ship_province), '') end as ship_province_text,
            case when length(trim(gross_amount)) <= 4 and regexp_full_match(trim(gross_amount), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(gross_amount), '') end as gross_amount_text,
            case when length(trim(discount_amount)) <= 4 and regexp_full_match(trim(discount_amount), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(discount_amount), '') end as discount_amount_text,
            case when length(trim(refunded_amount)) <= 4 and regexp_full_match(trim(refunded_amount), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(refunded_amount), '') end as refunded_amount_text,
            case when length(trim(promo_code)) <= 4 and regexp_full_match(trim(promo_code), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(promo_code), '') end as promo_code,
            case when length(trim(payment_method)) <= 4 and regexp_full_match(trim(payment_method), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(payment_method), '') end as payment_method_text,
            case when length(trim(device_type)) <= 4 and regexp_full_match(trim(device_type), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(device_type), '') end as device_type_text,
            case when length(trim(updated_at)) <= 4 and regexp_full_match(trim(updated_at), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(updated_at), '') end as updated_at_text
        from {{ orders }}
    ),

    status_codes as (
        select
            status_text,
            case
                when status_text is null then 'completed'
                when key in ('completed', 'complete', 'delivered', 'done', 'success', 'successful', 'paid',
                             'fulfilled', 'hoanthanh', 'dagiao', 'thanhcong', 'giaothanhcong') then 'completed'
                when key in ('cancelled', 'canceled', 'cancel', 'huy', 'dahuy', 'voided', 'failed') then 'cancelled'
                when key in ('returned', 'refunded', 'return', 'trahang', 'datrahang', 'hoantra', 'dahoantra',
                             'hoanhang', 'hoantien', 'dahoantien') then 'returned'
                when key in ('pending', 'processing', 'shipping', 'shipped', 'new', 'confirmed', 'awaiting',
                             'dangxuly', 'danggiao', 'choxacnhan', 'onhold') then 'pending'
            end as order_status
        from (
            select
                status_text,
                regexp_replace(replace(strip_accents(lower(nfc_normalize(status_text))), 'đ', 'd'), '[^a-z0-9]', '',
                               'g') as key
            from (select distinct case when length(trim(status)) <= 4 and regexp_full_match(trim(status), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(status), '') end as status_text from {{ orders }})
        )
    ),

    orders_typed as (
        select
            orders_cleaned.*,
            case
                when regexp_matches(ordered_at_text, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
                    then timezone('{{ source_timezone }}', try_cast(ordered_at_text as timestamptz))
                else try_cast(ordered_at_text as timestamp)
            end as ordered_at,
            case
                when regexp_matches(updated_at_text, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
                    then timezone('{{ source_timezone }}', try_cast(updated_at_text as timestamptz))
                else try_cast(updated_at_text as timestamp)
            end as updated_at,
            try_cast(gross_amount_text as decimal(18, 2)) as gross_amount,
            try_cast(discount_amount_text as decimal(18, 2)) as discount_amount,
            try_cast(refunded_amount_text as decimal(18, 2)) as refunded_amount,
            status_codes.order_status
        from orders_cleaned
        left join status_codes on orders_cleaned.status_text is not distinct from status_codes.status_text
    ),

    orders_valid as (
        select *, coalesce(updated_at, ordered_at) as version_at
        from orders_typed
        where
            order_id is not null
            and customer_id is not null
            and ordered_at is not null
            and gross_amount is not null
            and not (discount_amount_text is not null and discount_amount is null)
            and not (refunded_amount_text is not null and refunded_amount is null)
            and not (updated_at_text is not null and updated_at is null)
            and order_status is not null
            and gross_amount >= 0
            and coalesce(discount_amount, 0) >= 0
            and coalesce(refunded_amount, 0) >= 0
            and coalesce(discount_amount, 0) <= gross_amount
            and ordered_at >= cast('{{ earliest_valid_date }}' as date)
            and cast(ordered_at as date) <= cast('{{ build_date }}' as date)
    ),

    repeated_order_ids as (
        select order_id, max(version_at) as latest_version_at
        from orders_valid
        group by order_id
        having count(*) > 1
    ),

    -- a repeated id: its newest version supersedes the older rows; identical copies of it count once, different
    -- rows of the same version are ambiguous and none is used
    repeated_orders_kept as (
        select
            orders_valid.order_id,
            any_value(customer_id) as customer_id,
            any_value(order_status) as order_status,
            any_value(channel_text) as channel_text,
            any_value(ship_province_text) as ship_province_text,
            any_value(gross_amount) as gross_amount,
            any_value(discount_amount) as discount_amount,
            any_value(refunded_amount) as refunded_amount,
            any_value(promo_code) as promo_code,
            any_value(ordered_at) as ordered_at
        from orders_valid
        inner join repeated_order_ids
            on orders_valid.order_id = repeated_order_ids.order_id
            and orders_valid.version_at = repeated_order_ids.latest_version_at
        group by orders_valid.order_id
        having count(distinct (
            customer_id, ordered_at_text, status_text, channel_text, ship_province_text, gross_amount_text,
            discount_amount_text, refunded_amount_text, promo_code, payment_method_text, device_type_text,
            updated_at_text
        )) = 1
    ),

    orders_kept as (
        select
            order_id, customer_id, order_status, channel_text, ship_province_text, gross_amount, discount_amount,
            refunded_amount, promo_code, ordered_at
        from orders_valid
        anti join repeated_order_ids on orders_valid.order_id = repeated_order_ids.order_id
        union all
        select * from repeated_orders_kept
    ),

    orders_of_kept_customers as (
        select orders_kept.*
        from orders_kept
        semi join customers_kept on orders_kept.customer_id = customers_kept.customer_id
    ),

    as_of as (
        select coalesce(
            cast({{ as_of_date }} as date),
            (select max(cast(ordered_at as date)) from orders_of_kept_customers),
            (select max(signup_date) from customers_kept)
        ) as as_of_date
    ),

    channel_codes as (
        select
            channel_text,
            case
                when channel_text is null then 'unknown'
                when key in ('store', 'cuahang', 'pos', 'offline', 'shop', 'instore', 'retail', 'sieuthi') then 'store'
                when key in ('website', 'web', 'ecommerce', 'online', 'webshop') then 'website'
                when key in ('app', 'mobileapp', 'ungdung', 'ios', 'android') then 'app'
                when key in ('zalo', 'zalooa', 'zaloshop') then 'zalo'
                when key in ('facebook', 'fb', 'fanpage', 'messenger', 'facebookshop', 'instagram') then 'facebook'
                when key in ('shopee', 'shopeemall') then 'shopee'
                when key in ('lazada', 'lazmall') then 'lazada'
                when key in ('tiktokshop', 'tiktok', 'tts') then 'tiktok_shop'
                when key in ('hotline', 'phone', 'telephone', 'dienthoai', 'callcenter') then 'phone'
                else 'other'
            end as channel
        from (
            select
                channel_text,
                regexp_replace(replace(strip_accents(lower(nfc_normalize(channel_text))), 'đ', 'd'), '[^a-z0-9]', '',
                               'g') as key
            from (select distinct case when length(trim(channel)) <= 4 and regexp_full_match(trim(channel), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(channel), '') end as channel_text from {{ orders }})
        )
    ),

    -- the same key as tools/build_province_seeds.py and the province_key macro
    province_codes as (
        select
            province_text,
            regexp_replace(
                regexp_replace(
                    replace(strip_accents(lower(nfc_normalize(trim(province_text)))), 'đ', 'd'),
                    '^(tinh\s+|thanh pho\s+|tp[\s.]*|t\.p[\s.]*)', ''
                ),
                '[^a-z0-9]', '', 'g'
            ) as province_key
        from (
            select distinct case when length(trim(ship_province)) <= 4 and regexp_full_match(trim(ship_province), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(ship_province), '') end as province_text from {{ orders }}
            union
            select distinct case when length(trim(province)) <= 4 and regexp_full_match(trim(province), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(province), '') end from {{ customers }}
        )
    ),

    province_aliases as (
        select province_key, province from {{ province_aliases }}
    ),

    -- orders up to the as-of date, valued as int_orders__valued does
    orders_in_scope as (
        select
            orders.order_id,
            orders.customer_id,
            orders.order_status,
            channel_codes.channel,
            province_codes.province_key as ship_province_key,
            orders.ordered_at,
            cast(orders.ordered_at as date) as ordered_date,
            coalesce(orders.discount_amount, 0) > 0 or orders.promo_code is not null as is_discounted,
            orders.order_status in ('completed', 'returned') as is_revenue_order,
            orders.gross_amount - coalesce(orders.discount_amount, 0) as amount_after_discount,
            case
                when orders.order_status not in ('completed', 'returned') then cast(0 as decimal(18, 2))
                when orders.order_status = 'returned' and orders.refunded_amount is null
                    then orders.gross_amount - coalesce(orders.discount_amount, 0)
                else least(coalesce(orders.refunded_amount, 0), orders.gross_amount - coalesce(orders.discount_amount, 0))
            end as refund_amount
        from orders_of_kept_customers as orders
        cross join as_of
        left join channel_codes on orders.channel_text is not distinct from channel_codes.channel_text
        left join province_codes on orders.ship_province_text is not distinct from province_codes.province_text
        where cast(orders.ordered_at as date) <= as_of.as_of_date
    ),

    orders_valued as (
        select
            *,
            case when is_revenue_order then amount_after_discount - refund_amount else cast(0 as decimal(18, 2)) end
                as net_amount,
            order_status = 'completed'
            and not (is_revenue_order and refund_amount > 0 and refund_amount >= amount_after_discount)
                as is_completed
        from orders_in_scope
    ),

    -- order items: kept lines of completed orders, for the favourite category ----------------------------
    items_cleaned as (
        select
            case when length(trim(order_id)) <= 4 and regexp_full_match(trim(order_id), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(order_id), '') end as order_id,
            case when length(trim(line_number)) <= 4 and regexp_full_match(trim(line_number), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(line_number), '') end as line_number_text,
            case when length(trim(product_id)) <= 4 and regexp_full_match(trim(product_id), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(product_id), '') end as product_id,
            case when length(trim(category)) <= 4 and regexp_full_match(trim(category), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(category), '') end as category_text,
            case when length(trim(quantity)) <= 4 and regexp_full_match(trim(quantity), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(quantity), '') end as quantity_text,
            case when length(trim(unit_price)) <= 4 and regexp_full_match(trim(unit_price), 'null|n/a|#n/a|-|none|nan', 'i') then null else nullif(trim(unit_price), '') end as unit_price_text,
            file_index,
            file_row_number
        from {{ order_items }}
    ),

    items_valid as (
        select *
        from (
            select
                *,
                try_cast(line_number_text as integer) as line_number,
                try_cast(quantity_text as decimal(18, 2)) as quantity,
                try_cast(unit_price_text as decimal(18, 2)) as unit_price
            from items_cleaned
        )
        where
            order_id is not null
            and not (line_number_text is not null and line_number is null)
            and not (quantity_text is not null and quantity is null)
            and not (unit_price_text is not null and unit_price is null)
            and coalesce(quantity, 0) >= 0
            and coalesce(unit_price, 0) >= 0
    ),

    -- a line is keyed by (order_id, line_number); a line without a number is its own key (its file and row);
    -- identical rows of a key count once, a key whose rows differ is dropped (only repeated keys are compared)
    items_grouped as (
        select
            order_id,
            line_number_text,
            case when line_number_text is null then file_index end as file_index,
            case when line_number_text is null then file_row_number end as file_row_number,
            count(*) as row_count,
            any_value(category_text) as category_text,
            any_value(quantity) as quantity
        from items_valid
        group by all
    ),

    items_conflicting as (
        select order_id, line_number_text
        from items_valid
        semi join (
            select order_id, line_number_text from items_grouped where row_count > 1 and line_number_text is not null
        ) as repeated using (order_id, line_number_text)
        group by order_id, line_number_text
        having count(distinct (product_id, category_text, quantity_text, unit_price_text)) > 1
    ),

    items_kept as (
        select order_id, category_text, quantity
        from items_grouped
        anti join items_conflicting using (order_id, line_number_text)
    ),

    favourite_categories as (
        select customer_id, category as favourite_category
        from (
            select orders.customer_id, lower(items.category_text) as category, sum(coalesce(items.quantity, 1)) as quantity
            from items_kept as items
            inner join orders_valued as orders on items.order_id = orders.order_id
            where orders.is_completed and items.category_text is not null
            group by all
        )
        qualify row_number() over (partition by customer_id order by quantity desc, category asc) = 1
    ),

    -- per customer --------------------------------------------------------------------------------------
    order_totals as (
        select
            customer_id,
            count(*) filter (where is_completed) as completed_order_count,
            count(distinct ordered_date) filter (where is_completed) as purchase_day_count,
            count(*) filter (where is_completed and is_discounted) as discounted_order_count,
            min(ordered_date) filter (where is_completed) as first_order_date,
            max(ordered_date) filter (where is_completed) as last_order_date,
            min(ordered_date) as first_any_order_date,
            sum(net_amount) as net_revenue
        from orders_valued
        group by customer_id
    ),

    median_gaps as (
        select customer_id, median(gap_days) as median_days_between_orders
        from (
            select
                customer_id,
                date_diff('day', lag(ordered_date) over (partition by customer_id order by ordered_date), ordered_date)
                    as gap_days
            from (select distinct customer_id, ordered_date from orders_valued where is_completed)
        )
        where gap_days is not null
        group by customer_id
    ),

    channel_counts as (
        select customer_id, channel, count(*) as order_count, max(ordered_at) as last_ordered_at
        from orders_valued
        where is_completed
        group by customer_id, channel
    ),

    preferred_channels as (
        select customer_id, channel as preferred_channel
        from channel_counts
        qualify row_number() over (
            partition by customer_id order by order_count desc, last_ordered_at desc, channel asc
        ) = 1
    ),

    most_shipped as (
        select customer_id, province as most_shipped_province
        from (
            select orders.customer_id, aliases.province, count(*) as order_count, max(orders.ordered_at) as last_ordered_at
            from orders_valued as orders
            inner join province_aliases as aliases on orders.ship_province_key = aliases.province_key
            where orders.order_status <> 'cancelled'
            group by orders.customer_id, aliases.province
        )
        qualify row_number() over (
            partition by customer_id order by order_count desc, last_ordered_at desc, province asc
        ) = 1
    ),

    history as (
        select
            customers.customer_id,
            coalesce(totals.completed_order_count, 0) as completed_order_count,
            coalesce(totals.purchase_day_count, 0) as purchase_day_count,
            coalesce(totals.discounted_order_count, 0) as discounted_order_count,
            coalesce(totals.net_revenue, 0) as net_revenue,
            totals.first_order_date,
            totals.last_order_date,
            date_diff('day', totals.last_order_date, as_of.as_of_date) as recency_days,
            date_diff('day', totals.first_order_date, as_of.as_of_date) as tenure_days,
            median_gaps.median_days_between_orders,
            least(customers.signup_date, totals.first_any_order_date) as signup_date,
            coalesce(customer_aliases.province, most_shipped.most_shipped_province, 'unknown') as home_province,
            preferred_channels.preferred_channel,
            favourite_categories.favourite_category
        from customers_kept as customers
        cross join as_of
        left join order_totals as totals on customers.customer_id = totals.customer_id
        left join median_gaps on customers.customer_id = median_gaps.customer_id
        left join preferred_channels on customers.customer_id = preferred_channels.customer_id
        left join most_shipped on customers.customer_id = most_shipped.customer_id
        left join favourite_categories on customers.customer_id = favourite_categories.customer_id
        left join province_codes on customers.province_text is not distinct from province_codes.province_text
        left join province_aliases as customer_aliases on province_codes.province_key = customer_aliases.province_key
        where least(customers.signup_date, totals.first_any_order_date) <= as_of.as_of_date
    ),

    population_gap as (
        select median(median_days_between_orders) as population_gap_days
        from history
        where purchase_day_count >= 2
    ),

    -- RFM scores among buyers, and the revenue rank among buyers who are not lost, in one pass of windows
    ranked as (
        select
            customer_id,
            cast(greatest(1, 5 - floor(5 * percent_rank() over (order by recency_days))) as integer) as r_score,
            cast(least(5, 1 + floor(5 * percent_rank() over (order by completed_order_count))) as integer) as f_score,
            cast(least(5, 1 + floor(5 * percent_rank() over (order by net_revenue))) as integer) as m_score
        from history
        where completed_order_count > 0
    ),

    vip_ranked as (
        select
            customer_id,
            rank() over (order by net_revenue desc) as revenue_rank_not_lost,
            count(*) over () as customers_not_lost
        from history
        where completed_order_count > 0 and recency_days <= {{ lost_after_days }}
    ),

    segmented as (
        select
            history.*,
            ranked.r_score,
            ranked.f_score,
            ranked.m_score,
            case
                when history.completed_order_count = 0 then 'potential'
                when history.recency_days > {{ lost_after_days }} then 'lost'
                when history.tenure_days <= {{ new_within_days }} then 'new'
                when history.recency_days > {{ at_risk_min_days }}
                    and history.recency_days > {{ at_risk_gap_multiplier }} * coalesce(
                        history.median_days_between_orders, population_gap.population_gap_days
                    ) then 'at_risk'
                when history.net_revenue > 0
                    and vip_ranked.revenue_rank_not_lost - 1
                    < cast({{ vip_top_share }} as decimal(9, 6)) * vip_ranked.customers_not_lost then 'vip'
                when history.completed_order_count >= {{ loyal_min_orders }}
                    and history.recency_days <= {{ loyal_within_days }} then 'loyal'
                when history.discounted_order_count
                    >= cast({{ price_hunter_min_discount_share }} as decimal(9, 6)) * history.completed_order_count
                    then 'price_hunter'
                else 'casual'
            end as lifecycle_segment
        from history
        cross join population_gap
        left join ranked on history.customer_id = ranked.customer_id
        left join vip_ranked on history.customer_id = vip_ranked.customer_id
    )

    select
        segmented.customer_id,
        segmented.lifecycle_segment,
        segmented.r_score,
        segmented.f_score,
        segmented.m_score,
        segmented.net_revenue,
        segmented.completed_order_count,
        segmented.purchase_day_count,
        segmented.first_order_date,
        segmented.last_order_date,
        segmented.recency_days,
        segmented.tenure_days,
        segmented.median_days_between_orders,
        segmented.signup_date,
        segmented.preferred_channel,
        segmented.home_province,
        coalesce(provinces.region, 'unknown') as home_region,
        segmented.favourite_category
    from segmented
    left join {{ provinces }} as provinces on segmented.home_province = provinces.province

) to '{{ out }}' (format parquet)
