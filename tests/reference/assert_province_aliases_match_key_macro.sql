-- Every alias in the seed vn_province_aliases normalises, through the province_key macro, to its own key, so
-- the Python seed builder and the SQL that matches raw values agree; and every alias maps to a known province.
with

aliases as (

    select * from {{ ref('vn_province_aliases') }}

),

provinces as (

    select * from {{ ref('vn_provinces') }}

)

select
    aliases.province_alias,
    aliases.province_key,
    {{ province_key('aliases.province_alias') }} as macro_key,
    aliases.province
from aliases
left join provinces
    on aliases.province = provinces.province
where {{ province_key('aliases.province_alias') }} <> aliases.province_key
    or provinces.province is null
