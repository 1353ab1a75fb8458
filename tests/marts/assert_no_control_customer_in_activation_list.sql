-- The activation list (what the care tools contact) never holds a customer of a control group: they are held back
-- so that the lift of the care action can be measured (docs/care-lift.md). Each row returned is one such customer.
select activation.customer_id
from {{ ref('customer_activation') }} as activation
inner join {{ ref('customer_segments') }} as segments
    on activation.customer_id = segments.customer_id
where segments.is_control_group
