-- Care and advocacy signals up to the as-of date: complaints opened within the last complaint_window_days days
-- (resolved or not), and successful referrals (the referred customer has a completed order by the as-of date).
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

tickets as (

    select * from {{ ref('int_support_tickets__grained') }}

),

referrals as (

    select * from {{ ref('int_referrals__grained') }}

),

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

complaints as (

    select
        tickets.customer_id,
        count(*) as complaint_count_90d
    from tickets
    cross join as_of
    where tickets.ticket_type = 'complaint'
        and cast(tickets.opened_at as date) <= as_of.as_of_date
        and {{ dbt.datediff('cast(tickets.opened_at as date)', 'as_of.as_of_date', 'day') }}
        <= {{ var('complaint_window_days') }}
    group by tickets.customer_id

),

successful_referrals as (

    select
        referrals.referrer_customer_id as customer_id,
        count(*) as successful_referral_count
    from referrals
    cross join as_of
    inner join order_history
        on referrals.referred_customer_id = order_history.customer_id
    where order_history.completed_order_count > 0
        and (referrals.referred_at is null or cast(referrals.referred_at as date) <= as_of.as_of_date)
    group by referrals.referrer_customer_id

),

engagement as (

    select
        customers.customer_id,
        coalesce(complaints.complaint_count_90d, 0) as complaint_count_90d,
        coalesce(successful_referrals.successful_referral_count, 0) as successful_referral_count,
        coalesce(complaints.complaint_count_90d, 0) >= {{ var('complainer_min_complaints') }} as is_complainer,
        coalesce(successful_referrals.successful_referral_count, 0)
        >= {{ var('advocate_min_referrals') }} as is_advocate,
        customers.customer_type = 'business' as is_business
    from customers
    left join complaints
        on customers.customer_id = complaints.customer_id
    left join successful_referrals
        on customers.customer_id = successful_referrals.customer_id

)

select * from engagement
