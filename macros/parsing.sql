{#- Parsing and cleaning expressions shared by the raw-input check and the base models. Each returns null for a
    value it cannot read; the base models turn "text present, value null" into a rejected row. -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}


{#- Timestamps with an offset are converted to local time in `source_timezone`; timestamps without one are
    already local time there. The result is a local timestamp without zone. -#}
{% macro parse_timestamp(column) -%}
    case
        when regexp_matches({{ column }}, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
            then timezone('{{ var("source_timezone") }}', try_cast({{ column }} as timestamptz))
        else try_cast({{ column }} as timestamp)
    end
{%- endmacro %}


{% macro parse_date(column) -%}
    coalesce(try_cast({{ column }} as date), cast({{ parse_timestamp(column) }} as date))
{%- endmacro %}


{#- Amounts are exact decimals, never floating point, so sums are identical run to run. -#}
{% macro parse_amount(column) -%}
    try_cast({{ column }} as decimal(18, 2))
{%- endmacro %}


{% macro parse_integer(column) -%}
    try_cast({{ column }} as integer)
{%- endmacro %}


{#- Lower-case, without diacritics (đ included) and without anything but letters and digits: the key that
    code mappings match on, so `Cửa hàng`, `cua hang` and `CUA-HANG` are one value. -#}
{% macro text_key(column) -%}
    regexp_replace(replace(strip_accents(lower(nfc_normalize({{ column }}))), 'đ', 'd'), '[^a-z0-9]', '', 'g')
{%- endmacro %}


{#- Same rule as scripts/build_province_seeds.py: also drops a leading "tỉnh", "thành phố" or "TP." -#}
{% macro province_key(column) -%}
    regexp_replace(
        regexp_replace(
            replace(strip_accents(lower(nfc_normalize(trim({{ column }})))), 'đ', 'd'),
            '^(tinh\s+|thanh pho\s+|tp[\s.]*|t\.p[\s.]*)', ''
        ),
        '[^a-z0-9]', '', 'g'
    )
{%- endmacro %}


{#- Vietnamese phone numbers to +84 followed by 9 digits; anything else is null. -#}
{% macro normalize_vn_phone(column) -%}
    case
        when regexp_full_match(regexp_replace({{ column }}, '[^0-9]', '', 'g'), '84[1-9][0-9]{8}')
            then '+' || regexp_replace({{ column }}, '[^0-9]', '', 'g')
        when regexp_full_match(regexp_replace({{ column }}, '[^0-9]', '', 'g'), '0[1-9][0-9]{8}')
            then '+84' || substr(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 2)
    end
{%- endmacro %}


{#- The first failed check of a list of {when, reason, column}: `field` picks what to return: the reason
    code, the column name, or the raw value (field='value' returns the column's raw text). -#}
{% macro first_failed_check(checks, field) -%}
    case
        {%- for check in checks %}
        when {{ check.when }} then {% if field == 'value' %}{{ check.value if check.value is defined else 'null' }}{% else %}'{{ check[field] }}'{% endif %}
        {%- endfor %}
    end
{%- endmacro %}


{#- The day of the build in `source_timezone`: rows dated after it are rejected as date_in_future. -#}
{% macro build_date() -%}
    cast('{{ run_started_at.astimezone(modules.pytz.timezone(var("source_timezone"))).strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}


{#- Window columns that find duplicates among rows with the same row-check outcome:
    copy_number (1 for the first of identical rows), rows_with_key (rows sharing the key) and identical_rows
    (rows identical to this one). A key whose rows are not all identical (rows_with_key > identical_rows) is
    ambiguous. -#}
{% macro duplicate_flags(raw_columns, key_expression) -%}
    row_number() over (
        partition by row_rejection_reason, {{ raw_columns | join(', ') }}
        order by source_row_number
    ) as copy_number,
    count(*) over (partition by row_rejection_reason, {{ key_expression }}) as rows_with_key,
    count(*) over (partition by row_rejection_reason, {{ raw_columns | join(', ') }}) as identical_rows
{%- endmacro %}


{#- `materialized` for a CTE that several later CTEs read, so that the engine computes it once (DuckDB otherwise
    inlines it into each reader, repeating the parsing; a materialized CTE spills to disk past memory_limit).
    Engines without the keyword get nothing. -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_materialized() -%}
    {%- if var('materialize_checked_rows') | string | lower not in ('false', '0', 'no') %}materialized{% endif -%}
{%- endmacro %}
