{#- The grain of the mart (var segment_by, docs/identity.md): 'customer' (each customer id) or 'person' (the ids
    linked by a shared phone or email, int_customers__identity_resolved). True for person; anything else than the two
    words stops the build with one line naming the var. -#}
{% macro segment_by_person() -%}
    {%- set value = var('segment_by') | string | trim | lower -%}
    {%- if value not in ('customer', 'person') -%}
        {{ exceptions.raise_compiler_error("var segment_by must be customer or person, got '" ~ var('segment_by') ~ "'") }}
    {%- endif -%}
    {%- if value == 'person' and target.type != 'duckdb' -%}
        {{ exceptions.raise_compiler_error("segment_by: person is built and tested on DuckDB only in this version, not on "
            ~ target.type ~ " (docs/identity.md); use segment_by: customer there") }}
    {%- endif -%}
    {{ return(value == 'person') }}
{%- endmacro %}
