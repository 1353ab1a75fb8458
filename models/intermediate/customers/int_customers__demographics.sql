-- Age on the as-of date, age band (18-25, 26-40, 41-55, 56+, under_18, unknown) and generation by birth year
-- (Gen Z 1997-2012, Millennials 1981-1996, Gen X 1965-1980, Boomers 1946-1964). A birth date after the as-of
-- date or an age over 110 is not believable: age and band are unknown.
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

aged as (

    select
        customers.customer_id,
        customers.gender,
        customers.birth_date,
        case
            -- completed years: the year difference, less one when the birthday has not come yet in the as-of year
            -- (a 29 February birthday comes on 1 March in other years)
            when customers.birth_date <= as_of.as_of_date
                then cast(
                        year(as_of.as_of_date) - year(customers.birth_date)
                        - case
                            when month(as_of.as_of_date) * 100 + day(as_of.as_of_date)
                                < month(customers.birth_date) * 100 + day(customers.birth_date)
                                then 1
                            else 0
                        end
                        as integer
                    )
        end as age_years
    from customers
    cross join as_of

),

banded as (

    select
        customer_id,
        gender,
        case when age_years <= 110 then age_years end as age_years,
        case
            when age_years is null or age_years > 110 then 'unknown'
            when age_years < 18 then 'under_18'
            when age_years <= 25 then '18-25'
            when age_years <= 40 then '26-40'
            when age_years <= 55 then '41-55'
            else '56+'
        end as age_band,
        case
            when age_years is null or age_years > 110 then 'unknown'
            when year(birth_date) >= 2013 then 'gen_alpha'
            when year(birth_date) >= 1997 then 'gen_z'
            when year(birth_date) >= 1981 then 'millennials'
            when year(birth_date) >= 1965 then 'gen_x'
            when year(birth_date) >= 1946 then 'boomers'
            else 'silent'
        end as generation
    from aged

)

select * from banded
