{#- Raw code values mapped to closed sets. Matching is on `text_key` (lower-case, no diacritics, letters and
    digits only), so spelling, case and punctuation variants meet. Extend the lists here for your data: a value in
    none of them (`unmapped`: 'other', 'unknown' or 'individual') is counted, with examples, in
    audit.raw_values_nulled as unknown_code, which calls these macros with `unmapped='null'`. -#}

{% macro map_codes(column, mapping, missing, otherwise) -%}
    case
        when {{ column }} is null then {{ missing }}
        {%- for code, keys in mapping.items() %}
        when {{ text_key(column) }} in ('{{ keys | join("', '") }}') then '{{ code }}'
        {%- endfor %}
        else {{ otherwise }}
    end
{%- endmacro %}


{#- Sales channel: store, website, app, zalo, facebook, shopee, lazada, tiktok_shop, phone, other, unknown. -#}
{% macro map_channel(column, unmapped="'other'") -%}
    {{ map_codes(column, {
        'store': ['store', 'cuahang', 'pos', 'offline', 'shop', 'instore', 'retail', 'sieuthi'],
        'website': ['website', 'web', 'ecommerce', 'online', 'webshop'],
        'app': ['app', 'mobileapp', 'ungdung', 'ios', 'android'],
        'zalo': ['zalo', 'zalooa', 'zaloshop'],
        'facebook': ['facebook', 'fb', 'fanpage', 'messenger', 'facebookshop', 'instagram'],
        'shopee': ['shopee', 'shopeemall'],
        'lazada': ['lazada', 'lazmall'],
        'tiktok_shop': ['tiktokshop', 'tiktok', 'tts'],
        'phone': ['hotline', 'phone', 'telephone', 'dienthoai', 'callcenter'],
    }, "'unknown'", unmapped) }}
{%- endmacro %}


{#- Gender: male, female, other, unknown. -#}
{% macro map_gender(column, unmapped="'unknown'") -%}
    {{ map_codes(column, {
        'male': ['male', 'm', 'nam', 'man', 'ong', 'anh'],
        'female': ['female', 'f', 'nu', 'woman', 'ba', 'chi'],
        'other': ['other', 'khac', 'nonbinary', 'x'],
    }, "'unknown'", unmapped) }}
{%- endmacro %}


{#- Order status: completed, cancelled, returned, pending; empty means completed; anything else is null and the
    row is rejected as unknown_status. -#}
{% macro map_order_status(column) -%}
    {{ map_codes(column, {
        'completed': ['completed', 'complete', 'delivered', 'done', 'success', 'successful', 'paid', 'fulfilled',
                      'hoanthanh', 'dagiao', 'thanhcong', 'giaothanhcong'],
        'cancelled': ['cancelled', 'canceled', 'cancel', 'huy', 'dahuy', 'voided', 'failed'],
        'returned': ['returned', 'refunded', 'return', 'trahang', 'datrahang', 'hoantra', 'dahoantra', 'hoanhang',
                     'hoantien', 'dahoantien'],
        'pending': ['pending', 'processing', 'shipping', 'shipped', 'new', 'confirmed', 'awaiting', 'dangxuly',
                    'danggiao', 'choxacnhan', 'onhold'],
    }, "'completed'", "null") }}
{%- endmacro %}


{#- Device: mobile, desktop, tablet, unknown. -#}
{% macro map_device_type(column, unmapped="'unknown'") -%}
    {{ map_codes(column, {
        'mobile': ['mobile', 'phone', 'smartphone', 'ios', 'android', 'dienthoai', 'iphone'],
        'desktop': ['desktop', 'pc', 'laptop', 'computer', 'maytinh', 'web'],
        'tablet': ['tablet', 'ipad', 'maytinhbang'],
    }, "'unknown'", unmapped) }}
{%- endmacro %}


{#- Customer type: business or individual; empty is individual unless a company name is given, and so is a value
    in neither list. -#}
{% macro map_customer_type(column, company_name_column, unmapped="'individual'") -%}
    case
        when {{ text_key(column) }} in ('business', 'b2b', 'company', 'doanhnghiep', 'congty', 'corporate')
            then 'business'
        when {{ column }} is null and {{ company_name_column }} is not null then 'business'
        when {{ column }} is null
            or {{ text_key(column) }} in (
                'individual', 'personal', 'person', 'private', 'consumer', 'b2c', 'canhan', 'khachle', 'khachcanhan'
            )
            then 'individual'
        else {{ unmapped }}
    end
{%- endmacro %}


{#- Marketing consent: true, false, or null when not given. -#}
{% macro map_consent(column) -%}
    case
        when {{ text_key(column) }} in ('yes', 'y', 'true', '1', 'co', 'dongy', 'optin') then true
        when {{ text_key(column) }} in ('no', 'n', 'false', '0', 'khong', 'optout') then false
    end
{%- endmacro %}


{#- Event type (raw table events): visit, product_view, add_to_cart, chat_message, form_submission, app_install,
    other. An empty type is null and the row is rejected (missing_required_value); a spelling in none of the lists
    is `other` (kept, scored with the seed's `other` points, 0 by default, and counted in audit.raw_values_nulled). -#}
{% macro map_event_type(column, unmapped="'other'") -%}
    {{ map_codes(column, {
        'visit': ['visit', 'pageview', 'page', 'sessionstart', 'session', 'webvisit', 'appopen', 'appvisit',
                  'truycap', 'luottruycap', 'xemtrang'],
        'product_view': ['productview', 'viewitem', 'viewproduct', 'itemview', 'xemsanpham', 'xemsp'],
        'add_to_cart': ['addtocart', 'cartadd', 'addcart', 'themvaogio', 'themvaogiohang', 'bogio'],
        'chat_message': ['chat', 'chatmessage', 'message', 'zalomessage', 'zalochat', 'facebookmessage',
                         'messengermessage', 'messenger', 'fbmessage', 'inbox', 'nhantin', 'tinnhan'],
        'form_submission': ['formsubmission', 'formsubmit', 'form', 'leadform', 'contactform', 'dangkytuvan',
                            'dangky', 'signupform'],
        'app_install': ['appinstall', 'install', 'caiapp', 'caidatungdung'],
    }, "null", unmapped) }}
{%- endmacro %}
