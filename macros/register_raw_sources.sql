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
    {% set raw_glob = raw_path.replace("'", "''") %}
    {% set found = run_query(
        "select file from glob('" ~ raw_glob ~ "/*') union all select file from glob('" ~ raw_glob ~ "/*/*')") %}
    {% if found.rows | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "raw_data_path '" ~ raw_path ~ "': folder does not exist or is empty (set the dbt var raw_data_path "
            ~ "or the RAW_DATA_PATH environment variable)") }}
    {% endif %}
    {% set files = found.columns[0].values() | map('string') | map('replace', '\\', '/') | list %}
    {% do run_query('create schema if not exists raw') %}
    {% for table_name, spec in contract.items() %}
        {#- a table is one file (<table>.csv, <table>.parquet) or a folder <table>/ of *.csv or *.parquet files
            read together (e.g. one file per day) -#}
        {% set candidates = [] %}
        {% for fmt in ['csv', 'parquet'] %}
            {% if (raw_path ~ '/' ~ table_name ~ '.' ~ fmt) in files %}
                {% do candidates.append((fmt, raw_path ~ '/' ~ table_name ~ '.' ~ fmt, table_name ~ '.' ~ fmt)) %}
            {% endif %}
        {% endfor %}
        {% set folder = raw_path ~ '/' ~ table_name ~ '/' %}
        {% set in_folder = {'csv': 0, 'parquet': 0, 'any': 0} %}
        {% for f in files if f.startswith(folder) %}
            {% do in_folder.update({'any': in_folder.any + 1}) %}
            {% for ext in ['csv', 'parquet'] if (f | lower).endswith('.' ~ ext) %}
                {% do in_folder.update({ext: in_folder[ext] + 1}) %}
            {% endfor %}
        {% endfor %}
        {% if in_folder.any > 0 %}
            {% set n_csv = in_folder.csv %}
            {% set n_parquet = in_folder.parquet %}
            {% if n_csv > 0 and n_parquet > 0 %}
                {{ exceptions.raise_compiler_error(
                    "raw_data_path '" ~ raw_path ~ "': folder " ~ table_name ~ "/ holds both .csv and .parquet files; keep one format") }}
            {% elif n_csv + n_parquet == 0 %}
                {{ exceptions.raise_compiler_error(
                    "raw_data_path '" ~ raw_path ~ "': folder " ~ table_name ~ "/ holds no .csv or .parquet file") }}
            {% endif %}
            {% set fmt = 'csv' if n_csv > 0 else 'parquet' %}
            {% do candidates.append((fmt, folder ~ '*.' ~ fmt, table_name ~ '/*.' ~ fmt)) %}
        {% endif %}
        {% if candidates | length > 1 %}
            {{ exceptions.raise_compiler_error(
                "raw_data_path '" ~ raw_path ~ "': " ~ ('both ' if candidates | length == 2 else '')
                ~ (candidates | map(attribute=2) | join(' and ')) ~ " exist; keep one") }}
        {% endif %}
        {% if candidates | length == 0 %}
            {% if spec.required %}
                {{ exceptions.raise_compiler_error(
                    "raw_data_path '" ~ raw_path ~ "': required file " ~ table_name ~ ".csv or "
                    ~ table_name ~ ".parquet (or a folder " ~ table_name ~ "/ of such files) is missing") }}
            {% endif %}
            {% do log('raw input: ' ~ table_name ~ ': no file in ' ~ raw_path ~ ', read as an empty table', info=true) %}
            {% do run_query(raw_empty_view_sql(table_name, spec.columns)) %}
        {% else %}
            {% set fmt, file_path, file_label = candidates[0] %}
            {% set reader = raw_file_reader(fmt, file_path) %}
            {% set described = run_query('describe select * from ' ~ reader) %}
            {% set header = {} %}
            {% for name in described.columns[0].values() if name not in raw_reader_columns() %}
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
            {% for name in header if name not in spec.columns %}
                {% do log('raw input: ' ~ file_label ~ ": column '" ~ header[name] ~ "' is not in the input contract, ignored", info=true) %}
            {% endfor %}
            {% do run_query(raw_file_view_sql(table_name, spec.columns, header, reader, fmt, raw_path)) %}
            {% for column, kind in spec.typed_required_columns.items() %}
                {% do check_column_readable(file_label, table_name, column, kind) %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}


{#- `_source_file` (the file a row comes from) is added by the reader; Parquet also gives each row's position in its
    file (file_row_number, 0-based). CSV has no such column: a row's position is its place in the scan, which
    DuckDB keeps in file order while `preserve_insertion_order` is true (the default; see profiles.yml). -#}
{% macro raw_file_reader(fmt, file_path) %}
    {%- if fmt == 'csv' -%}
        read_csv('{{ file_path.replace("'", "''") }}', header = true, all_varchar = true, auto_detect = true,
            union_by_name = true, filename = '_source_file')
    {%- else -%}
        read_parquet('{{ file_path.replace("'", "''") }}', union_by_name = true, filename = '_source_file',
            file_row_number = true)
    {%- endif -%}
{% endmacro %}


{% macro raw_reader_columns() %}
    {{ return(['_source_file', 'file_row_number']) }}
{% endmacro %}


{#- One view per raw table: every contract column as text, `_source_file` relative to raw_data_path and
    `_source_row_number` (1-based, header excluded) within that file. -#}
{% macro raw_file_view_sql(table_name, columns, header, reader, fmt, raw_path) %}
    create or replace view raw.{{ table_name }} as
    {%- if fmt == 'csv' %}
    with scanned as (
        select *, row_number() over () as _scan_row_number
        from {{ reader }}
    )
    {%- endif %}
    select
        {%- for column in columns %}
        {% if column in header -%}
        cast({{ adapter.quote(header[column]) }} as varchar)
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as {{ column }},
        {%- endfor %}
        replace(replace(_source_file, '\\', '/'), '{{ raw_path.replace("'", "''") }}/', '') as _source_file,
        {%- if fmt == 'csv' %}
        _scan_row_number - min(_scan_row_number) over (partition by _source_file) + 1 as _source_row_number
    from scanned
        {%- else %}
        file_row_number + 1 as _source_row_number
    from {{ reader }}
        {%- endif %}
{% endmacro %}


{% macro raw_empty_view_sql(table_name, columns) %}
    create or replace view raw.{{ table_name }} as
    select
        {%- for column in columns %}
        cast(null as varchar) as {{ column }},
        {%- endfor %}
        cast(null as varchar) as _source_file,
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


{#- on-run-start: DuckDB's worker threads from the DUCKDB_THREADS environment variable, when it is set (the other
    DuckDB settings are in profiles.yml; a profile value cannot be left unset, and DuckDB's own default, one thread
    per core, is the right one unless a scheduler shares the machine). -#}
{% macro apply_duckdb_threads() %}
    {% set threads = env_var('DUCKDB_THREADS', '') | trim %}
    {% if execute and threads and target.type == 'duckdb' %}
        {% if not threads.isdigit() or threads | int < 1 %}
            {{ exceptions.raise_compiler_error(
                "DUCKDB_THREADS='" ~ threads ~ "': expected a whole number of threads, 1 or more") }}
        {% endif %}
        {% do run_query('set threads = ' ~ (threads | int)) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}
