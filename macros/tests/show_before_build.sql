{#- `dbt show --select <model>` also runs the data tests of the model it previews and hides their results (dbt's
    indirect selection). Before the first build those tests have no table to read, and dbt show would stop on them
    although the preview itself works (the raw nodes read the source at compile time). So, under `dbt show` only, a
    test reads a relation that does not exist yet as an empty table with the model's documented columns; every other
    command (build, test) reads the relation itself, as dbt's own get_where_subquery does. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {% do return(tested_relation(relation, where=config.get('where', ''))) %}
{%- endmacro %}

{% macro spark__get_where_subquery(relation) -%}
    {% do return(tested_relation(relation, where=config.get('where', ''))) %}
{%- endmacro %}

{% macro tested_relation(relation, where='') -%}
    {%- if execute and flags.WHICH == 'show' and relation is not string
            and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- set columns = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed', 'snapshot')
                and (node.relation_name or '') | lower == (relation | string) | lower -%}
            {%- for name in node.columns -%}
                {%- do columns.append('cast(null as ' ~ dbt.type_string() ~ ') as ' ~ adapter.quote(name)) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do return('(select ' ~ ((columns or ['1 as no_column']) | join(', ')) ~ ' where false) as not_built_yet') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
