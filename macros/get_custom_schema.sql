{#- Schemas are the layer names (staging, intermediate, marts, ...), not <target>_<layer>,
    so BI tools always read `marts.customer_segments` whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
