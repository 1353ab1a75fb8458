-- Layers run one way (docs/architecture.md): raw -> staging -> intermediate -> marts (audit reads any of them). One
-- row per model that reads against that flow, read from dbt's graph when the test compiles:
--   - a staging model that reads another table's staging model: staging reads one source each (a stg_ model its
--     own table's base model, a base model its raw table and the forget list); a check across tables belongs after
--     staging (models/intermediate/checked);
--   - a staging model that reads a later layer, or an intermediate model that reads a mart or an audit model.
-- The exceptions are named below, each with its reason.
{%- set allowed = {
    'base_shop__order_items <- base_shop__orders':
        'incremental bookkeeping: the raw lines of the orders re-loaded since the last run are re-checked (docs/incremental.md); no line is checked against an order',
} %}
{%- set violations = [] %}
{%- if execute %}
    {%- set layers = {} %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name %}
        {%- do layers.update({node.unique_id: 'raw' if 'raw' in node.fqn[2:-1] else node.fqn[1]}) %}
    {%- endfor %}
    {%- for node in graph.nodes.values() if node.unique_id in layers %}
        {%- set layer = layers[node.unique_id] %}
        {%- for parent_id in node.depends_on.nodes if parent_id in layers %}
            {%- set parent = graph.nodes[parent_id] %}
            {%- set parent_layer = layers[parent_id] %}
            {%- set edge = node.name ~ ' <- ' ~ parent.name %}
            {%- set own_base = 'base_shop__' ~ node.name.split('__')[-1] | replace('rejected_', '') %}
            {%- set rule = none %}
            {%- if layer == 'staging' and parent_layer == 'staging' and parent.name != own_base %}
                {%- set rule = 'staging reads staging' %}
            {%- elif layer == 'staging' and parent_layer in ('intermediate', 'marts', 'audit') %}
                {%- set rule = 'staging reads a later layer' %}
            {%- elif layer == 'intermediate' and parent_layer in ('marts', 'audit') %}
                {%- set rule = 'intermediate reads a mart' %}
            {%- endif %}
            {%- if rule and edge not in allowed %}
                {%- do violations.append({'edge': edge, 'rule': rule}) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

{% for violation in violations %}
    select
        '{{ violation.edge }}' as model_reads,
        '{{ violation.rule }}' as broken_rule
    {%- if not loop.last %} union all{% endif %}
{% else %}
    select
        cast(null as {{ dbt.type_string() }}) as model_reads,
        cast(null as {{ dbt.type_string() }}) as broken_rule
    where 1 = 0
{% endfor %}
