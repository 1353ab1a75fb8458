-- RESTRICTED. The phones and emails held by more than identity_max_ids_per_key customer ids: they link nothing (a
-- shop's own number, a placeholder such as 0000000000 or noemail@...), listed so that someone can clean them at the
-- source or raise the cap (docs/identity.md).
with

identity_keys as (

    select * from {{ ref('int_customers__identity_keys') }}

)

select distinct
    key_type,
    key_value,
    ids_with_key
from identity_keys
where ids_with_key > {{ var('identity_max_ids_per_key') }}
