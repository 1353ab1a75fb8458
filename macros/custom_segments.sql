{#- Custom segments: analysts declare named segments as nested `all` / `any` groups of conditions on the columns of
    customer_segments (see models/marts/_custom_segments.yml and docs/custom-segments.md). These macros check every definition
    and compile it to a SQL predicate. Column names are only ever taken from the mart's contract, and values are
    always rendered as typed literals, so a definition cannot inject SQL. Every problem found is reported, one line
    each naming the segment and the condition, and the build stops before any custom segment is written. -#}

{#- operator -> (column kinds it applies to, value shape) -#}
{% macro custom_segment_operators() %}
    {{ return({
        '=': (['number', 'text', 'boolean', 'date'], 'scalar'),
        '!=': (['number', 'text', 'boolean', 'date'], 'scalar'),
        '>': (['number', 'date'], 'scalar'),
        '>=': (['number', 'date'], 'scalar'),
        '<': (['number', 'date'], 'scalar'),
        '<=': (['number', 'date'], 'scalar'),
        'between': (['number', 'date'], 'pair'),
        'in': (['number', 'text', 'date'], 'list'),
        'not_in': (['number', 'text', 'date'], 'list'),
        'contains': (['text'], 'tag'),
        'is_null': (['number', 'text', 'boolean', 'date'], 'none'),
        'is_not_null': (['number', 'text', 'boolean', 'date'], 'none'),
        'within_last_days': (['date'], 'days'),
        'before_days_ago': (['date'], 'days'),
    }) }}
{% endmacro %}

{#- The kind of a contract data type: number, text, boolean or date (dates and timestamps). -#}
{% macro custom_segment_column_kind(data_type) %}
    {% set data_type = (data_type or '') | lower %}
    {% if data_type.startswith('decimal') or data_type.startswith('numeric')
        or data_type in ['integer', 'bigint', 'smallint', 'tinyint', 'hugeint', 'double', 'float', 'real'] %}
        {{ return('number') }}
    {% elif data_type == 'boolean' %}
        {{ return('boolean') }}
    {% elif data_type == 'date' or data_type.startswith('timestamp') %}
        {{ return('date') }}
    {% else %}
        {{ return('text') }}
    {% endif %}
{% endmacro %}

{#- A literal of the column's kind, or none when the value is not of that kind. -#}
{% macro custom_segment_literal(value, kind) %}
    {% if kind == 'boolean' %}
        {{ return(('true' if value else 'false') if value is boolean else none) }}
    {% elif kind == 'number' %}
        {{ return(value | string if (value is number and value is not boolean) else none) }}
    {% elif kind == 'date' %}
        {#- YAML reads an unquoted 2024-01-06 as a date: take it as its ISO text -#}
        {% set text = value.isoformat() if (value is not string and value.isoformat is defined) else value %}
        {% if not (text is string and modules.re.fullmatch('\\d{4}-\\d{2}-\\d{2}', text)) %}
            {{ return(none) }}
        {% endif %}
        {% set year, month, day = text[0:4] | int, text[5:7] | int, text[8:10] | int %}
        {% if month < 1 or month > 12 or day < 1 %}
            {{ return(none) }}
        {% endif %}
        {% set month_end = modules.datetime.date(year + month // 12, month % 12 + 1, 1)
            - modules.datetime.timedelta(days=1) %}
        {{ return("date '" ~ text ~ "'" if day <= month_end.day else none) }}
    {% else %}
        {{ return("'" ~ (value | replace("'", "''")) ~ "'" if value is string else none) }}
    {% endif %}
{% endmacro %}

{#- The SQL predicate of one condition (a leaf or an all/any group); problems are appended to `errors`. -#}
{% macro custom_segment_predicate(node, columns, where, errors, purchased='purchased_order_lines') %}
    {% set operators = custom_segment_operators() %}
    {% if node is not mapping %}
        {% do errors.append(where ~ ': expected a condition (column, operator, value) or an all/any group') %}
        {{ return('false') }}
    {% endif %}
    {% set groups = node.keys() | select('in', ['all', 'any']) | list %}
    {% if groups | length > 0 %}
        {% set group = groups[0] %}
        {% if groups | length > 1 or node.keys() | list | length > 1 %}
            {% do errors.append(where ~ ': a group has exactly one key, all or any; found ' ~ (node.keys() | list | join(', '))) %}
            {{ return('false') }}
        {% endif %}
        {% if node[group] is string or node[group] is mapping or node[group] is not iterable or node[group] | length == 0 %}
            {% do errors.append(where ~ ': ' ~ group ~ ' needs a non-empty list of conditions') %}
            {{ return('false') }}
        {% endif %}
        {% set parts = [] %}
        {% for child in node[group] %}
            {% do parts.append(custom_segment_predicate(child, columns, where ~ '.' ~ group ~ '[' ~ loop.index0 ~ ']',
                errors, purchased)) %}
        {% endfor %}
        {{ return('(' ~ parts | join(' and ' if group == 'all' else ' or ') ~ ')') }}
    {% endif %}

    {% set purchases = node.keys() | select('in', ['bought', 'not_bought']) | list %}
    {% if purchases | length > 0 %}
        {% if node.keys() | list | length > 1 %}
            {% do errors.append(where ~ ': a purchase condition has exactly one key, bought or not_bought; found '
                ~ (node.keys() | list | join(', '))) %}
            {{ return('false') }}
        {% endif %}
        {{ return(custom_segment_purchase_predicate(purchases[0], node[purchases[0]], where, errors, purchased)) }}
    {% endif %}
    {% set unknown_keys = node.keys() | reject('in', ['column', 'operator', 'value']) | list %}
    {% set column = node.get('column') %}
    {% set operator = node.get('operator') %}
    {% set where = where ~ ' (' ~ column ~ ' ' ~ operator ~ ')' %}
    {% if unknown_keys | length > 0 %}
        {% do errors.append(where ~ ': unknown key ' ~ unknown_keys | join(', ') ~ '; a condition has column, operator and value') %}
        {{ return('false') }}
    {% endif %}
    {% if column not in columns %}
        {% do errors.append(where ~ ": unknown column '" ~ column ~ "'; use a column of customer_segments") %}
        {{ return('false') }}
    {% endif %}
    {% if operator not in operators %}
        {% do errors.append(where ~ ": unknown operator '" ~ operator ~ "'; use one of " ~ (operators.keys() | join(' '))) %}
        {{ return('false') }}
    {% endif %}
    {% set kind = custom_segment_column_kind(columns[column]) %}
    {% set kinds, shape = operators[operator] %}
    {% if kind not in kinds %}
        {% do errors.append(where ~ ': operator ' ~ operator ~ ' does not apply to ' ~ kind ~ ' column ' ~ column) %}
        {{ return('false') }}
    {% endif %}
    {% set quoted = adapter.quote(column) %}
    {% set value = node.get('value') %}
    {% set has_value = 'value' in node %}
    {% set expected = {
        'scalar': 'one ' ~ kind ~ ' value' ~ (' (yyyy-mm-dd)' if kind == 'date' else ''),
        'pair': 'a list of two ' ~ kind ~ ' values [low, high]',
        'list': 'a non-empty list of ' ~ kind ~ ' values',
        'tag': 'one tag (text without ;)',
        'none': 'no value',
        'days': 'a whole number of days, 0 or more',
    }[shape] %}
    {% set wrong = where ~ ': expects ' ~ expected ~ ', got ' ~ (value | string if has_value else 'nothing') %}

    {% if shape == 'none' %}
        {% if has_value %}{% do errors.append(wrong) %}{% endif %}
        {{ return(quoted ~ (' is null' if operator == 'is_null' else ' is not null')) }}
    {% elif shape == 'days' %}
        {% if not (value is number and value is not boolean and value is integer and value >= 0) %}
            {% do errors.append(wrong) %}
            {{ return('false') }}
        {% endif %}
        {% set age = dbt.datediff(quoted, 'as_of_date', 'day') %}
        {{ return(('(' ~ age ~ ' between 0 and ' ~ value ~ ')') if operator == 'within_last_days'
            else ('(' ~ age ~ ' > ' ~ value ~ ')')) }}
    {% elif shape == 'tag' %}
        {% if not (value is string and ';' not in value and value | trim | length > 0) %}
            {% do errors.append(wrong) %}
            {{ return('false') }}
        {% endif %}
        {{ return(list_text_contains("coalesce(lower(" ~ quoted ~ "), '')", ';',
            custom_segment_literal(value | trim | lower, 'text'))) }}
    {% elif shape == 'scalar' %}
        {% set literal = custom_segment_literal(value, kind) %}
        {% if literal is none %}
            {% do errors.append(wrong) %}
            {{ return('false') }}
        {% endif %}
        {#- != keeps customers whose value is empty (null): "not loyal" includes customers with no segment value -#}
        {{ return(quoted ~ ' ' ~ ('is distinct from' if operator == '!=' else operator) ~ ' ' ~ literal) }}
    {% else %}
        {% set values = value if (value is iterable and value is not string and value is not mapping) else none %}
        {% set literals = [] %}
        {% for item in values or [] %}
            {% do literals.append(custom_segment_literal(item, kind)) %}
        {% endfor %}
        {% if values is none or literals | length == 0 or none in literals
            or (shape == 'pair' and literals | length != 2) %}
            {% do errors.append(wrong) %}
            {{ return('false') }}
        {% endif %}
        {% if shape == 'pair' %}
            {#- numbers compare as numbers, dates as their ISO text -#}
            {% set low, high = (values | map('string') | list) if kind == 'date' else values %}
            {% if low > high %}
                {% do errors.append(where ~ ': between needs [low, high] with low <= high, got ' ~ value | string) %}
            {% endif %}
            {{ return('(' ~ quoted ~ ' between ' ~ literals[0] ~ ' and ' ~ literals[1] ~ ')') }}
        {% endif %}
        {% if operator == 'in' %}
            {{ return(quoted ~ ' in (' ~ literals | join(', ') ~ ')') }}
        {% endif %}
        {#- like !=, not_in keeps customers whose value is empty (null) -#}
        {{ return('coalesce(' ~ quoted ~ ' not in (' ~ literals | join(', ') ~ '), true)') }}
    {% endif %}
{% endmacro %}

{#- Check every definition and compile it: a list of {key, name, name_vi, description, predicate}. Stops the build with
    every problem, one line each, when any definition is invalid. `columns` maps column name -> data type. -#}
{% macro compile_custom_segments(definitions, columns, purchased='purchased_order_lines') %}
    {% set errors = [] %}
    {% set compiled = [] %}
    {% set seen = [] %}
    {% if definitions is string or definitions is mapping or definitions is not iterable %}
        {{ exceptions.raise_compiler_error('custom segments: expected a list of segment definitions') }}
    {% endif %}
    {% for definition in definitions %}
        {% set label = "custom segment '" ~ (definition.get('key') if definition is mapping else loop.index0) ~ "'" %}
        {% if definition is not mapping %}
            {% do errors.append(label ~ ': expected a mapping with key, name and all or any') %}
        {% else %}
            {% set key = definition.get('key') %}
            {% if not (key is string and modules.re.fullmatch('[a-z][a-z0-9_]*', key)) %}
                {% do errors.append(label ~ ': key must be lower-case letters, digits and _, starting with a letter') %}
            {% elif key in seen %}
                {% do errors.append(label ~ ': duplicate key; every segment needs its own') %}
            {% endif %}
            {% do seen.append(key) %}
            {% if not (definition.get('name') is string and definition.get('name') | trim | length > 0) %}
                {% do errors.append(label ~ ': name is missing') %}
            {% endif %}
            {% for optional in ['name_vi', 'description'] if definition.get(optional) is not none
                and definition.get(optional) is not string %}
                {% do errors.append(label ~ ': ' ~ optional ~ ' must be text') %}
            {% endfor %}
            {% set unknown_keys = definition.keys()
                | reject('in', ['key', 'name', 'name_vi', 'description', 'all', 'any']) | list %}
            {% if unknown_keys | length > 0 %}
                {% do errors.append(label ~ ': unknown key ' ~ unknown_keys | join(', ')
                    ~ '; a segment has key, name, name_vi, description and all or any') %}
            {% endif %}
            {% set groups = definition.keys() | select('in', ['all', 'any']) | list %}
            {% if groups | length != 1 %}
                {% do errors.append(label ~ ': needs exactly one of all or any, the group of its conditions') %}
            {% else %}
                {% set predicate = custom_segment_predicate(
                    {groups[0]: definition[groups[0]]}, columns, label ~ ' condition', errors, purchased) %}
                {% do compiled.append({
                    'key': key, 'name': definition.get('name'), 'name_vi': definition.get('name_vi'),
                    'description': definition.get('description'), 'predicate': predicate,
                }) %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if errors | length > 0 %}
        {{ exceptions.raise_compiler_error('invalid custom segments (' ~ errors | length ~ (' problem' if errors | length == 1 else ' problems') ~ '):\n' ~ errors | join('\n')) }}
    {% endif %}
    {{ return(compiled) }}
{% endmacro %}

{#- The custom segment definitions: the var custom_segments when set, else the meta.custom_segments of the model
    customer_custom_segments (models/marts/_custom_segments.yml). -#}
{% macro custom_segment_definitions() %}
    {% set override = var('custom_segments', none) %}
    {% if override is not none %}
        {{ return(override) }}
    {% endif %}
    {% for node in (graph.get('nodes') or {}).values()
        if node.resource_type == 'model' and node.name == 'customer_custom_segments' %}
        {{ return(node.config.meta.get('custom_segments', [])) }}
    {% endfor %}
    {{ return([]) }}
{% endmacro %}

{#- on-run-start: check every custom segment definition before any model runs, so that an invalid one stops the
    build before it touches the warehouse. -#}
{% macro check_custom_segments() %}
    {% if execute %}
        {% do compile_custom_segments(custom_segment_definitions(), customer_segments_columns()) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{#- The columns of customer_segments with their contract data types, read from the project graph (none where there
    is no graph: a dbt unit test of customer_custom_segments, which can test the purchase conditions only). -#}
{% macro customer_segments_columns() %}
    {% set columns = {} %}
    {% for node in (graph.get('nodes') or {}).values()
        if node.resource_type == 'model' and node.name == 'customer_segments' %}
        {% for name, column in node.columns.items() %}
            {% do columns.update({name: column.data_type}) %}
        {% endfor %}
    {% endfor %}
    {{ return(columns) }}
{% endmacro %}


{#- A condition on what the customer bought (docs/custom-segments.md): `bought` holds when the customer's completed
    order lines (int_order_items__purchased, `purchased`) that match every filter given come from at least min_times
    orders (default 1) and, with min_amount, add up to at least that amount; `not_bought` when they do not. Filters:
    product and category (one value or a list; categories compared trimmed and lower-cased; neither: any line) and
    within_last_days N (orders from N days before the as-of date up to it). Compiled as one grouped semi-join on the
    order lines: no column per product. Values are literals; a wrong key or type is one error naming the condition. -#}
{% macro custom_segment_purchase_predicate(kind, spec, where, errors, purchased) %}
    {% set where = where ~ ' (' ~ kind ~ ')' %}
    {% if spec is not mapping %}
        {% do errors.append(where ~ ': expects a mapping of product, category, within_last_days, min_times, min_amount') %}
        {{ return('false') }}
    {% endif %}
    {% set unknown_keys = spec.keys() | reject('in', ['product', 'category', 'within_last_days', 'min_times',
        'min_amount']) | list %}
    {% if unknown_keys | length > 0 %}
        {% do errors.append(where ~ ': unknown key ' ~ unknown_keys | join(', ')
            ~ '; use product, category, within_last_days, min_times, min_amount') %}
        {{ return('false') }}
    {% endif %}
    {% set filters = [] %}
    {% for field, column in [('product', 'product_id'), ('category', 'category')] if field in spec %}
        {% set values = [spec[field]] if spec[field] is string else spec[field] %}
        {% if values is string or values is mapping or values is not iterable or values | length == 0
            or values | reject('string') | list | length > 0 or values | map('trim') | reject | list | length > 0 %}
            {% do errors.append(where ~ ': ' ~ field ~ ' expects one text value or a non-empty list of them, got '
                ~ spec[field] | string) %}
            {{ return('false') }}
        {% endif %}
        {% set literals = [] %}
        {% for item in values %}
            {% do literals.append(custom_segment_literal(item | trim | lower if field == 'category' else item | trim,
                'text')) %}
        {% endfor %}
        {% do filters.append('purchased.' ~ column ~ ' in (' ~ literals | join(', ') ~ ')') %}
    {% endfor %}
    {% for field, minimum in [('within_last_days', 0), ('min_times', 1)] if field in spec %}
        {% set value = spec[field] %}
        {% if not (value is number and value is not boolean and value is integer and value >= minimum) %}
            {% do errors.append(where ~ ': ' ~ field ~ ' expects a whole number of at least ' ~ minimum ~ ', got '
                ~ value | string) %}
            {{ return('false') }}
        {% endif %}
    {% endfor %}
    {% if 'min_amount' in spec and not (spec.min_amount is number and spec.min_amount is not boolean
        and spec.min_amount >= 0) %}
        {% do errors.append(where ~ ': min_amount expects a number of 0 or more, got ' ~ spec.min_amount | string) %}
        {{ return('false') }}
    {% endif %}
    {% if 'within_last_days' in spec %}
        {% do filters.append('purchased.days_before_as_of between 0 and ' ~ spec.within_last_days) %}
    {% endif %}
    {% set having = ['count(distinct purchased.order_id) >= ' ~ spec.get('min_times', 1)] %}
    {% if 'min_amount' in spec %}
        {% do having.append('sum(purchased.line_amount) >= ' ~ spec.min_amount) %}
    {% endif %}
    {{ return('customer_id ' ~ ('not ' if kind == 'not_bought' else '') ~ 'in (select purchased.customer_id from '
        ~ purchased ~ ' as purchased' ~ (' where ' ~ filters | join(' and ') if filters else '')
        ~ ' group by purchased.customer_id having ' ~ having | join(' and ') ~ ')') }}
{% endmacro %}
