{#- dbt's ref, with one addition for previews before the first build: under `dbt show`, a raw node (raw_shop__<table>,
    a view built by `dbt build`) that does not exist yet is read as its own SQL, which looks at the source itself. So
    `dbt show --select base_shop__orders` works on a fresh clone, before any build; every other command, and a show on
    a built warehouse, reads the view. -#}
{% macro ref() %}
    {% set relation = builtins.ref(*varargs, **kwargs) %}
    {% set name = varargs[-1] if varargs else '' %}
    {% if execute and flags.WHICH == 'show' and name is string and name.startswith('raw_shop__')
            and relation is not none
            and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none %}
        {% do return('(' ~ raw_input(name[10:]) ~ ')') %}
    {% endif %}
    {% do return(relation) %}
{% endmacro %}
