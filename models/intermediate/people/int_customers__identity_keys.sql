-- The contact keys that can tie customer ids to one person: the normalised phone (E.164, old 11-digit mobiles
-- already renumbered in staging) and the trimmed, lower-cased email. A key held by 2 to identity_max_ids_per_key
-- customer ids links them (links_ids); one held by more (a shop's own number, a placeholder such as 0000000000 or
-- noemail@...) links nothing and is listed in restricted.identity_overshared_keys (docs/identity.md).
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

keys as (

    select
        customer_id,
        'phone' as key_type,
        phone as key_value
    from customers
    where phone is not null

    union all

    select
        customer_id,
        'email' as key_type,
        lower(trim(email)) as key_value
    from customers
    where email is not null and trim(email) <> ''

),

distinct_keys as (

    select distinct
        customer_id,
        key_type,
        key_value
    from keys

),

keyed as (

    select
        customer_id,
        key_type,
        key_value,
        count(*) over (partition by key_type, key_value) as ids_with_key
    from distinct_keys

)

select
    customer_id,
    key_type,
    key_value,
    ids_with_key,
    ids_with_key between 2 and {{ var('identity_max_ids_per_key') }} as links_ids
from keyed
