{#- The warehouse remembers what it was built from (audit.warehouse_source, one row):
    - `source`: the raw source as the user named it (raw_source().identity: the folder, database file or schema; not
      the pre-flight's repaired work copy, whose folder changes on every build);
    - `reading_fingerprint`: how raw rows are read: the SQL of the raw and base models, every macro they call (and
      the macros those call), the values of every var they use and the header map. A change of a parsing var, a
      code mapping or a parsing macro changes it; the date of the build and the incremental window do not;
    - `rules_fingerprint`: the same over the intermediate models and the marts (the segment rules and their vars).
    on-run-start (bind_state_to_source, after the input and var checks): when the source or the reading fingerprint
    differs from the recorded one, the incremental models are dropped, so that this build rebuilds them in full
    (the adapter's relation methods keep dbt's relation cache, filled before the hooks ran, in step). The segment
    history never mixes sources: after a build from another source it is moved aside to
    history_archive.customer_segment_history__<digest of the source> (listed in history_archive.sources) and comes
    back when that source is built again. A change of the rules alone keeps the history and says that its earlier
    dates were segmented under other rules. Each decision is one line in the build's output. -#}


{% macro bind_state_to_source() %}
    {% if not execute or flags.WHICH not in ('build', 'run', 'retry') %}
        {{ return('') }}
    {% endif %}
    {#- the incremental models: dropped to be rebuilt in full, except the history (full_refresh=false), moved aside -#}
    {% set incremental = [] %}
    {% set history = [] %}
    {% for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name
            and node.config.materialized == 'incremental' %}
        {% do (history if node.config.full_refresh == false else incremental).append(node) %}
    {% endfor %}
    {#- where incremental models are plain tables (Spark: incremental_or_table), every build starts afresh: there is
        no state to bind -#}
    {% if incremental | length == 0 and history | length == 0 %}
        {{ return('') }}
    {% endif %}
    {% set source = raw_source() %}
    {#- the grain is part of what the warehouse was built from: a person-grain history never mixes with a
        customer-grain one (segment_by, docs/identity.md) -#}
    {% set identity = source.identity ~ (' (segment_by: person)' if segment_by_person() else '') %}
    {% set files = list_raw_files(source.read_path) if source.kind == 'folder' else none %}
    {% set reading = state_fingerprint(['raw_shop__', 'base_shop__', 'stg_shop__', 'int_orders__'], raw_column_map(source, files).map) %}
    {% set rules = state_fingerprint(['int_', 'customer_segment', 'segment_'], none) %}
    {% set state_schema = api.Relation.create(database=state_database(), schema='audit') %}
    {% do adapter.create_schema(state_schema) %}
    {% set state_relation = api.Relation.create(database=state_database(), schema='audit', identifier='warehouse_source',
                                                type='table') %}
    {% do run_query('create table if not exists ' ~ state_relation ~ ' (source ' ~ dbt.type_string()
        ~ ', reading_fingerprint ' ~ dbt.type_string() ~ ', rules_fingerprint ' ~ dbt.type_string()
        ~ ', recorded_at timestamp)') %}
    {% set recorded = run_query('select source, reading_fingerprint, rules_fingerprint from ' ~ state_relation).rows %}
    {% set previous = recorded[0] if recorded | length > 0 else none %}

    {% set existing = [] %}
    {% for node in incremental %}
        {% set relation = adapter.get_relation(node.database, node.schema, node.alias) %}
        {% if relation is not none %}{% do existing.append((node, relation)) %}{% endif %}
    {% endfor %}

    {% set source_changed = previous is not none and previous[0] != identity %}
    {% set reading_changed = previous is not none and previous[1] != reading %}
    {% set unknown = previous is none and existing | length > 0 %}
    {% if (source_changed or reading_changed or unknown) and existing | length > 0 %}
        {% for node, relation in existing if node.unique_id not in selected_resources %}
            {{ exceptions.raise_compiler_error(
                (("the raw source changed since the last build (" ~ previous[0] ~ " -> " ~ identity ~ ")")
                 if source_changed else "the way raw rows are read changed since the last build")
                ~ ": " ~ node.name ~ " must be rebuilt in full, and this build does not select it; build every "
                ~ "model first (make build, or dbt build without --select)") }}
        {% endfor %}
        {% for node, relation in existing %}
            {% do adapter.drop_relation(relation) %}
        {% endfor %}
        {% set names = existing | map(attribute=0) | map(attribute='name') | join(', ') %}
        {% if source_changed %}
            {% do log('source state: raw source changed (' ~ previous[0] ~ ' -> ' ~ identity
                ~ '): ' ~ names ~ ' rebuilt in full', info=true) %}
        {% elif reading_changed %}
            {% do log('source state: the way raw rows are read changed (parsing vars, code mappings, parsing macros '
                ~ 'or the header map): ' ~ names ~ ' rebuilt in full', info=true) %}
        {% else %}
            {% do log('source state: this warehouse does not record its raw source (built by an earlier version): '
                ~ names ~ ' rebuilt in full', info=true) %}
        {% endif %}
    {% endif %}

    {% for node in history %}
        {% if source_changed %}
            {% do move_history_aside(node, previous[0], identity) %}
        {% elif previous is not none and previous[2] != rules
                and adapter.get_relation(node.database, node.schema, node.alias) is not none %}
            {% do log('source state: segment rules changed since the last build (rule vars or models): the earlier '
                ~ 'dates in ' ~ node.schema ~ '.' ~ node.alias ~ ' were segmented under other rules', info=true) %}
        {% endif %}
    {% endfor %}

    {% do run_query('delete from ' ~ state_relation) %}
    {% do run_query('insert into ' ~ state_relation ~ ' values (' ~ dbt.string_literal(identity) ~ ', '
        ~ dbt.string_literal(reading) ~ ', ' ~ dbt.string_literal(rules) ~ ', '
        ~ "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp))") %}
    {#- the statements above run in one open transaction of the hook's connection; the models' threads must see the
        dropped and moved tables: create_schema (a no-op here) is the adapter method that commits it -#}
    {% do adapter.create_schema(state_schema) %}
    {{ return('') }}
{% endmacro %}


{#- A digest of the models whose names start with one of `prefixes`: their SQL, the SQL of every macro they call
    (transitively, with each dispatched implementation), and the values of the vars named in any of it (except the
    ones that change from build to build without changing a result: the as-of date, the raw paths, the incremental
    window). `extra` (e.g. the header map) is added as it is. -#}
{% macro state_fingerprint(prefixes, extra) %}
    {% set ignored_vars = ['as_of_date', 'raw_data_path', 'raw_read_path', 'raw_schema', 'order_lookback_days',
                           'materialize_checked_rows'] %}
    {% set texts = [] %}
    {% set queue = [] %}
    {% for node in graph.nodes.values() | sort(attribute='unique_id')
        if node.resource_type == 'model' and node.package_name == project_name %}
        {% for prefix in prefixes if node.name.startswith(prefix) %}
            {% do texts.append(node.unique_id ~ '\n' ~ node.raw_code) %}
            {% do queue.extend(node.depends_on.macros) %}
        {% endfor %}
    {% endfor %}
    {% set seen = [] %}
    {#- a breadth-first walk over the macro calls (ten levels are far more than the project nests) -#}
    {% for depth in range(10) %}
        {% set next_queue = [] %}
        {% for unique_id in queue | unique | sort if unique_id not in seen %}
            {% do seen.append(unique_id) %}
            {% set name = unique_id.split('.')[-1] %}
            {% for candidate in [name, target.type ~ '__' ~ name, 'default__' ~ name] if candidate in context %}
                {% set generator = context[candidate] %}
                {% if generator.macro is defined %}
                    {% do texts.append(generator.macro.unique_id ~ '\n' ~ generator.macro.macro_sql) %}
                    {% do next_queue.extend(generator.macro.depends_on.macros) %}
                {% endif %}
            {% endfor %}
        {% endfor %}
        {% set queue = next_queue %}
    {% endfor %}
    {% set joined = texts | unique | sort | join('\n') %}
    {% set values = [] %}
    {% for name in modules.re.findall("var\\(\\s*['\"](\\w+)['\"]", joined) | unique | sort if name not in ignored_vars %}
        {% do values.append(name ~ '=' ~ (var(name, none) | string)) %}
    {% endfor %}
    {{ return(local_md5(joined ~ '\n' ~ (values | join('\n')) ~ '\n' ~ (extra | string))) }}
{% endmacro %}


{#- The archived histories: one row per source whose history was moved aside. -#}
{% macro history_archive_relation() %}
    {{ return(api.Relation.create(database=state_database(), schema='history_archive', identifier='sources',
                                  type='table')) }}
{% endmacro %}

{% macro history_archive_name(node, source_identity) %}
    {{ return(node.alias ~ '__' ~ local_md5(source_identity)[:12]) }}
{% endmacro %}


{#- Move `node`'s table aside as the history of `old_source`, and bring back `new_source`'s, when there is one. -#}
{% macro move_history_aside(node, old_source, new_source) %}
    {% do adapter.create_schema(api.Relation.create(database=state_database(), schema='history_archive')) %}
    {% set registry = history_archive_relation() %}
    {% do run_query('create table if not exists ' ~ registry ~ ' (source ' ~ dbt.type_string() ~ ', table_name '
        ~ dbt.type_string() ~ ', moved_at timestamp)') %}
    {% set current = adapter.get_relation(node.database, node.schema, node.alias) %}
    {% if current is not none %}
        {% set archived = api.Relation.create(database=node.database, schema='history_archive',
                                              identifier=history_archive_name(node, old_source), type='table') %}
        {% set stale = adapter.get_relation(archived.database, archived.schema, archived.identifier) %}
        {% if stale is not none %}{% do adapter.drop_relation(stale) %}{% endif %}
        {#- rename_relation keeps the schema: move by copy, then drop (the history is small beside the orders) -#}
        {% do run_query('create table ' ~ archived ~ ' as select * from ' ~ current) %}
        {% do adapter.drop_relation(current) %}
        {% do run_query('delete from ' ~ registry ~ ' where source = ' ~ dbt.string_literal(old_source)) %}
        {% do run_query('insert into ' ~ registry ~ ' values (' ~ dbt.string_literal(old_source) ~ ', '
            ~ dbt.string_literal(archived.identifier) ~ ", cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S')
            ~ "' as timestamp))") %}
        {% do log('source state: the segment history of ' ~ old_source ~ ' was moved aside to ' ~ archived.schema ~ '.'
            ~ archived.identifier ~ ' (it comes back when that source is built again)', info=true) %}
    {% endif %}
    {% set back = api.Relation.create(database=node.database, schema='history_archive',
                                      identifier=history_archive_name(node, new_source), type='table') %}
    {% if adapter.get_relation(back.database, back.schema, back.identifier) is not none %}
        {% set restored = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias,
                                              type='table') %}
        {% do run_query('create table ' ~ restored ~ ' as select * from ' ~ back) %}
        {% do adapter.cache_added(restored) %}
        {% do adapter.drop_relation(back) %}
        {% do run_query('delete from ' ~ registry ~ ' where source = ' ~ dbt.string_literal(new_source)) %}
        {% do log('source state: the segment history of ' ~ new_source ~ ', moved aside earlier, is back in '
            ~ node.schema ~ '.' ~ node.alias, info=true) %}
    {% endif %}
{% endmacro %}


{#- The forget list reaches the moved-aside histories too (called by the history model's pre-hook). -#}
{% macro forget_in_history_archive() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set registry = history_archive_relation() %}
    {% if adapter.get_relation(registry.database, registry.schema, registry.identifier) is none %}
        {{ return('') }}
    {% endif %}
    {% for row in run_query('select table_name from ' ~ registry).rows %}
        {% set archived = api.Relation.create(database=state_database(), schema='history_archive', identifier=row[0]) %}
        {% do run_query('delete from ' ~ archived ~ ' where ' ~ is_erased_customer('customer_id', in_hook=true)) %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}


{#- The target's database, where the engine has one (DuckDB: the file's catalog; Spark: none). -#}
{% macro state_database() %}
    {{ return(target.database if target.database is defined else none) }}
{% endmacro %}
