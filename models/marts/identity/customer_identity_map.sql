-- RESTRICTED. Which person each kept customer id belongs to, and by which key (docs/identity.md): built from phones
-- and emails, so not bi_facing and never exported; the mart carries person_id and linked_customer_count only.
with

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

)

select
    customer_id,
    person_id,
    linked_by,
    linked_customer_count
from resolved
