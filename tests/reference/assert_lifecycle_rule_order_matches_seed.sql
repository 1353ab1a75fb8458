-- The seed lifecycle_segments lists the lifecycle segments in the order in which int_customers__lifecycle_segmented
-- applies their rules (rule_order, read by the report): the order is taken from the model's own `case ... end as
-- lifecycle_segment`, so moving a rule in either place without the other fails here. Rows: each segment whose
-- place differs (or that is on one side only). The unit test test_lifecycle_rule_order_adjacent_pairs proves that
-- the case applies the rules in this order.
-- depends_on: {{ ref('int_customers__lifecycle_segmented') }}
{%- set sql_order = [] %}
{%- if execute %}
    {%- set model_node = graph.nodes['model.customer_segmentation.int_customers__lifecycle_segmented'] %}
    {%- set segment_case = modules.re.search(
        '(?s)\\bcase\\b(.*?)\\bend\\s+as\\s+lifecycle_segment\\b', model_node.raw_code) %}
    {%- if segment_case %}
        {%- for rule, segment in modules.re.findall(
            "when\\s+is_(\\w+)_rule\\s+then\\s+'(\\w+)'", segment_case.group(1)) %}
            {%- if rule != segment %}
                {{ exceptions.raise_compiler_error(
                    "int_customers__lifecycle_segmented: the rule is_" ~ rule ~ "_rule gives '" ~ segment ~ "'") }}
            {%- endif %}
            {%- do sql_order.append(segment) %}
        {%- endfor %}
        {%- set otherwise = modules.re.search("\\belse\\s+'(\\w+)'", segment_case.group(1)) %}
        {%- if otherwise %}{% do sql_order.append(otherwise.group(1)) %}{% endif %}
    {%- endif %}
    {%- if sql_order | length < 2 %}
        {{ exceptions.raise_compiler_error(
            "int_customers__lifecycle_segmented: no `case when is_<segment>_rule then '<segment>' ... else"
            ~ " '<segment>' end as lifecycle_segment` found to read the rule order from") }}
    {%- endif %}
{%- endif %}
with

seed_order as (

    select
        lifecycle_segment,
        rule_order
    from {{ ref('lifecycle_segments') }}

),

model_order as (

    select
        model_rules.lifecycle_segment,
        model_rules.rule_order
    from (
        values
        {%- for segment in sql_order %}
            ('{{ segment }}', {{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as model_rules (lifecycle_segment, rule_order)

)

select
    coalesce(seed_order.lifecycle_segment, model_order.lifecycle_segment) as lifecycle_segment,
    seed_order.rule_order as seed_rule_order,
    model_order.rule_order as model_rule_order
from seed_order
full outer join model_order
    on seed_order.lifecycle_segment = model_order.lifecycle_segment
where seed_order.rule_order is distinct from model_order.rule_order
