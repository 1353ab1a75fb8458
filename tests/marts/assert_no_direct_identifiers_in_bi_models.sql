-- No direct identifier reaches a BI-facing model (meta bi_facing: true). A column is a direct identifier when any
-- source or model YAML tags a column of that name `meta: {direct_identifier: true}` (name, email, phone, birth
-- date, company name; docs/personal-data.md). Two checks, each row returned is one finding:
--   1. by name: a BI-facing model has a column named like a direct identifier;
--   2. by value: a text column of a BI-facing model holds a value equal to a staged customer's name, email, phone,
--      company name or birth date (values of 5 characters or more, so that short codes cannot collide). This
--      catches a renamed or concatenated copy that the name check cannot see. customer_id (and person_id, one of
--      the customer ids) is not scanned: it is the retailer's own key, kept on purpose (if your ids are phone
--      numbers or emails, see docs/personal-data.md).
-- The depends_on lines make the test run after every BI-facing model; a BI-facing model missing from them stops
-- the test with a message naming it.
-- depends_on: {{ ref('customer_segments') }}
-- depends_on: {{ ref('customer_custom_segments') }}
-- depends_on: {{ ref('customer_segment_history') }}
-- depends_on: {{ ref('segment_transitions') }}
-- depends_on: {{ ref('segment_summary') }}
-- depends_on: {{ ref('segment_by_channel') }}
-- depends_on: {{ ref('segment_by_region') }}
-- depends_on: {{ ref('rfm_grid') }}
-- depends_on: {{ ref('pareto_curve') }}
-- depends_on: {{ ref('cohort_retention') }}
-- depends_on: {{ ref('care_lift') }}
{%- if python_models_enabled() %}
-- depends_on: {{ ref('clv_model_params') }}
{%- endif %}
{%- set covered = ['customer_segments', 'customer_custom_segments', 'customer_segment_history', 'segment_transitions',
    'segment_summary', 'segment_by_channel', 'segment_by_region', 'rfm_grid', 'pareto_curve', 'clv_model_params',
    'cohort_retention', 'care_lift'] %}
{%- set identifier_names = [] %}
{%- set bi_models = [] %}
{%- if execute %}
    {%- for node in (graph.sources.values() | list) + (graph.nodes.values() | list) %}
        {%- for column in node.get('columns', {}).values() if (column.meta or {}).get('direct_identifier') %}
            {%- if column.name | lower not in identifier_names %}
                {%- do identifier_names.append(column.name | lower) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and (node.config.meta or {}).get('bi_facing') %}
        {%- if node.name not in covered %}
            {{ exceptions.raise_compiler_error(
                "assert_no_direct_identifiers_in_bi_models: BI-facing model '" ~ node.name ~ "' is not covered; add "
                ~ "a depends_on line and its name to `covered` in "
                ~ "tests/marts/assert_no_direct_identifiers_in_bi_models.sql") }}
        {%- endif %}
        {%- do bi_models.append(node) %}
    {%- endfor %}
{%- endif %}

with

identifier_values as (

    select distinct identifiers.cell_value as identifier_value
    from (
        {{ unpivot_cells(ref('stg_shop__customers'),
            ['full_name', 'email', 'phone', 'company_name', 'cast(birth_date as string)']) }}
    ) as identifiers
    where length(identifiers.cell_value) >= 5

),

-- noqa: disable=LT02, LT05
findings as (

    select
        cast(null as string) as model_name,
        cast(null as string) as column_name,
        cast(null as string) as problem
    from identifier_values
    where false
    {%- for node in bi_models %}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) %}
        {%- set text_columns = [] %}
        {%- for column in adapter.get_columns_in_relation(relation) %}
            {%- if column.name | lower in identifier_names %}
    union all
    select
        '{{ node.name }}' as model_name,
        '{{ column.name }}' as column_name,
        'named like a direct identifier' as problem
            {%- endif %}
            {%- if column.is_string() and column.name | lower not in ('customer_id', 'person_id') %}
                {%- do text_columns.append(column.name) %}
            {%- endif %}
        {%- endfor %}
        {%- if text_columns %}
    union all
    select distinct
        '{{ node.name }}' as model_name,
        scanned.column_name,
        'holds the name, email, phone, company name or birth date of a customer' as problem
    from (
        {{ unpivot_cells(relation, text_columns) }}
    ) as scanned
    where scanned.cell_value in (select identifier_values.identifier_value from identifier_values)
        {%- endif %}
    {%- endfor %}

)
-- noqa: enable=LT02, LT05

select * from findings
