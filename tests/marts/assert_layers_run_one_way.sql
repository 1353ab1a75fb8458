-- Layers run one way, raw -> staging -> intermediate -> marts: no model reads a model of a later layer (a mart
-- feeding an intermediate model, say). Rows: each such edge, read from the project's graph (the folder under
-- models/ is the layer; audit, which checks every layer, is left out).
{%- set layer_rank = {'staging': 1, 'intermediate': 2, 'marts': 3} %}
{%- set backwards = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' %}
        {%- set node_layer = node.original_file_path.split('/')[1] %}
        {%- for parent_id in node.depends_on.nodes if parent_id in graph.nodes %}
            {%- set parent = graph.nodes[parent_id] %}
            {%- set parent_layer = parent.original_file_path.split('/')[1] %}
            {%- if parent.resource_type == 'model' and node_layer in layer_rank and parent_layer in layer_rank
                and layer_rank[parent_layer] > layer_rank[node_layer] %}
                {%- do backwards.append((parent.name, parent_layer, node.name, node_layer)) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}
with

no_edges as (

    select
        cast(null as {{ dbt.type_string() }}) as parent_model,
        cast(null as {{ dbt.type_string() }}) as parent_layer,
        cast(null as {{ dbt.type_string() }}) as child_model,
        cast(null as {{ dbt.type_string() }}) as child_layer
    where 1 = 0

),

backward_edges as (

    select * from no_edges
    {%- for parent_name, parent_layer, child_name, child_layer in backwards %}
    union all
    select
        '{{ parent_name }}' as parent_model,
        '{{ parent_layer }}' as parent_layer,
        '{{ child_name }}' as child_model,
        '{{ child_layer }}' as child_layer
    {%- endfor %}

)

select * from backward_edges
