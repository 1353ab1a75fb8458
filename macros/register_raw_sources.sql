{#- on-run-start: check the raw folder against the input contract and (re)create one view per raw table in
    the `raw` schema. Every contract column is exposed as text (parsing happens in the base models, where a
    bad value becomes a rejected row); an absent optional column or file becomes empty (nulls / no rows).
    A missing folder, a missing required file or column, or a required column with no readable value at
    all stops the build here, before any model runs, with one line naming the file and the column. -#}
{% macro register_raw_sources() %}
    {% if not execute or flags.WHICH not in ('build', 'run', 'test', 'seed', 'retry') %}
        {{ return('') }}
    {% endif %}
    {% set raw_path = var('raw_data_path') | string | trim %}
    {% set raw_path = raw_path[:-1] if raw_path.endswith('/') else raw_path %}
    {% set contract = raw_contract() %}
    {% set found = run_query("select file from glob('" ~ raw_path.replace("'", "''") ~ "/*')") %}
    {% if found.rows | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "raw_data_path '" ~ raw_path ~ "': folder does not exist or is empty (set the dbt var raw_data_path "
            ~ "or the RAW_DATA_PATH environment variable)") }}
    {% endif %}
    {% set files = found.columns[0].values() | map('string') | list %}
    {% do run_query('create schema if not exists raw') %}
    {% for table_name, spec in contract.items() %}
        {% set candidates = [] %}
        {% for fmt in ['csv', 'parquet'] %}
            {% set wanted = raw_path ~ '/' ~ table_name ~ '.' ~ fmt %}
            {% for f in files %}
                {% if f == wanted or f.replace('\\', '/') == wanted %}
                    {% do candidates.append((fmt, f)) %}
                {% endif %}
            {% endfor %}
        {% endfor %}
        {% if candidates | length > 1 %}
            {{ exceptions.raise_compiler_error(
                "raw_data_path '" ~ raw_path ~ "': both " ~ table_name ~ ".csv and " ~ table_name
                ~ ".parquet exist; keep one") }}
        {% endif %}
        {% if candidates | length == 0 %}
            {% if spec.required %}
                {{ exceptions.raise_compiler_error(
                    "raw_data_path '" ~ raw_path ~ "': required file " ~ table_name ~ ".csv or "
                    ~ table_name ~ ".parquet is missing") }}
            {% endif %}
            {% do log('raw input: ' ~ table_name ~ ': no file in ' ~ raw_path ~ ', read as an empty table', info=true) %}
            {% do run_query(raw_empty_view_sql(table_name, spec.columns)) %}
        {% else %}
            {% set fmt, file_path = candidates[0] %}
            {% set file_label = table_name ~ '.' ~ fmt %}
            {% set reader = raw_file_reader(fmt, file_path) %}
            {% set described = run_query('describe select * from ' ~ reader) %}
            {% set header = {} %}
            {% for name in described.columns[0].values() %}
                {% do header.update({(name | string | trim | lower): name}) %}
            {% endfor %}
            {% for column in spec.required_columns %}
                {% if column not in header %}
                    {{ exceptions.raise_compiler_error(
                        file_label ~ " (in " ~ raw_path ~ "): required column '" ~ column ~ "' is missing; found: "
                        ~ (header.keys() | list | join(', '))) }}
                {% endif %}
            {% endfor %}
            {% for column in spec.columns %}
                {% if column not in header %}
                    {% do log('raw input: ' ~ file_label ~ ": optional column '" ~ column ~ "' is absent, read as empty", info=true) %}
                {% endif %}
            {% endfor %}
            {% do run_query(raw_file_view_sql(table_name, spec.columns, header, reader)) %}
            {% for column, kind in spec.typed_required_columns.items() %}
                {% do check_column_readable(file_label, table_name, column, kind) %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}


{% macro raw_file_reader(fmt, file_path) %}
    {%- if fmt == 'csv' -%}
        read_csv('{{ file_path.replace("'", "''") }}', header = true, all_varchar = true, auto_detect = true)
    {%- else -%}
        read_parquet('{{ file_path.replace("'", "''") }}')
    {%- endif -%}
{% endmacro %}


{% macro raw_file_view_sql(table_name, columns, header, reader) %}
    create or replace view raw.{{ table_name }} as
    select
        {%- for column in columns %}
        {% if column in header -%}
        cast({{ adapter.quote(header[column]) }} as varchar)
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as {{ column }},
        {%- endfor %}
        row_number() over () as _source_row_number
    from {{ reader }}
{% endmacro %}


{% macro raw_empty_view_sql(table_name, columns) %}
    create or replace view raw.{{ table_name }} as
    select
        {%- for column in columns %}
        cast(null as varchar) as {{ column }},
        {%- endfor %}
        cast(null as bigint) as _source_row_number
    where false
{% endmacro %}


{#- A required typed column none of whose first 1,000 filled values can be read is a wrong file or a wrong
    format, not a few bad rows: stop with the column and an example value. -#}
{% macro check_column_readable(file_label, table_name, column, kind) %}
    {% set parsed = parse_timestamp('value') if kind == 'timestamp' else parse_amount('value') %}
    {% set sql %}
        with sample as (
            select trim({{ column }}) as value
            from raw.{{ table_name }}
            where nullif(trim({{ column }}), '') is not null
            limit 1000
        )
        select count(*) as filled, count({{ parsed }}) as readable, min(value) as example
        from sample
    {% endset %}
    {% set row = run_query(sql).rows[0] %}
    {% if row[0] > 0 and row[1] == 0 %}
        {{ exceptions.raise_compiler_error(
            file_label ~ ": column '" ~ column ~ "' cannot be read as " ~ kind ~ " (no readable value among the first "
            ~ row[0] ~ ", e.g. '" ~ row[2] ~ "')") }}
    {% endif %}
{% endmacro %}
