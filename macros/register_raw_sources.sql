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
    {% set files = list_raw_files(raw_path) %}
    {% if files | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "raw_data_path '" ~ raw_path ~ "': folder does not exist or is empty (set the dbt var raw_data_path "
            ~ "or the RAW_DATA_PATH environment variable)") }}
    {% endif %}
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
            {% set reader = raw_file_reader(fmt, file_path, table_name) %}
            {% set header = {} %}
            {% for name in raw_file_columns(reader) if name not in raw_reader_columns() %}
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
            {% do run_query(raw_file_view_sql(table_name, spec.columns, header, reader, fmt, raw_path, file_label)) %}
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
{#- The files in the raw folder and its subfolders (one level), as `raw_path/name`, with forward slashes. -#}
{% macro list_raw_files(raw_path) %}
    {{ return(adapter.dispatch('list_raw_files', 'customer_segmentation')(raw_path)) }}
{% endmacro %}

{% macro default__list_raw_files(raw_path) %}
    {% set raw_glob = raw_path.replace("'", "''") %}
    {% set found = run_query(
        "select file from glob('" ~ raw_glob ~ "/*') union all select file from glob('" ~ raw_glob ~ "/*/*')") %}
    {{ return(found.columns[0].values() | map('string') | map('replace', '\\', '/') | list) }}
{% endmacro %}

{#- Spark lists files through the binaryFile source (file contents are not read when not selected). Paths come back
    absolute (`file:/...`): the raw folder is their common folder (customers and orders are both required, so a
    usable folder holds at least two entries), and names are rebuilt as `raw_path/...` as on DuckDB. -#}
{% macro spark__list_raw_files(raw_path) %}
    {% do run_query("create or replace temporary view raw_data_files using binaryFile options (path '"
        ~ raw_path.replace("'", "\\'") ~ "', recursiveFileLookup 'true')") %}
    {% set paths = run_query("select path from raw_data_files").columns[0].values() | map('string') | list %}
    {% set root = spark_raw_root(paths) %}
    {% set files = [] %}
    {% for path in paths %}
        {% set relative = path[root | length + 1:] %}
        {% if relative.count('/') <= 1 %}
            {% do files.append(raw_path ~ '/' ~ relative) %}
        {% endif %}
    {% endfor %}
    {{ return(files) }}
{% endmacro %}

{#- The common folder of absolute paths (without a trailing slash). -#}
{% macro spark_raw_root(paths) %}
    {% if paths | length == 0 %}{{ return('') }}{% endif %}
    {% set parts = paths[0].split('/')[:-1] %}
    {% set common = {'n': parts | length} %}
    {% for path in paths %}
        {% set other = path.split('/')[:-1] %}
        {% for i in range(common.n) %}
            {% if i >= other | length or other[i] != parts[i] %}
                {% do common.update({'n': [common.n, i] | min}) %}
            {% endif %}
        {% endfor %}
    {% endfor %}
    {{ return(parts[:common.n] | join('/')) }}
{% endmacro %}


{#- What a raw table is read through: a DuckDB table function, or on Spark an external table over the file(s)
    (raw.<table>__file; dropping it leaves the files alone). -#}
{% macro raw_file_reader(fmt, file_path, table_name) %}
    {{ return(adapter.dispatch('raw_file_reader', 'customer_segmentation')(fmt, file_path, table_name)) }}
{% endmacro %}

{% macro spark__raw_file_reader(fmt, file_path, table_name) %}
    {#- a relative path would be read relative to the table's own folder: use the absolute folder that
        spark__list_raw_files found -#}
    {% set raw_path = var('raw_data_path') | string | trim %}
    {% set raw_path = raw_path[:-1] if raw_path.endswith('/') else raw_path %}
    {% set root = spark_raw_root(run_query("select path from raw_data_files").columns[0].values() | map('string') | list) %}
    {% set file_path = root ~ file_path[raw_path | length:] %}
    {% set relation = 'raw.' ~ table_name ~ '__file' %}
    {% do run_query('drop table if exists ' ~ relation) %}
    {% set options = "header 'true', inferSchema 'false', multiLine 'true', encoding 'UTF-8', escape '\"'"
        if fmt == 'csv' else "mergeSchema 'true'" %}
    {% do run_query('create table ' ~ relation ~ ' using ' ~ fmt ~ " options (path '"
        ~ file_path.replace("'", "\\'") ~ "', " ~ options ~ ')') %}
    {{ return(relation) }}
{% endmacro %}

{#- The column names a reader gives. -#}
{% macro raw_file_columns(reader) %}
    {{ return(adapter.dispatch('raw_file_columns', 'customer_segmentation')(reader)) }}
{% endmacro %}

{% macro default__raw_file_columns(reader) %}
    {{ return(run_query('describe select * from ' ~ reader).columns[0].values() | list) }}
{% endmacro %}

{% macro spark__raw_file_columns(reader) %}
    {{ return(run_query('select * from ' ~ reader ~ ' limit 0').column_names | list) }}
{% endmacro %}

{% macro default__raw_file_reader(fmt, file_path, table_name) %}
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
{% macro raw_file_view_sql(table_name, columns, header, reader, fmt, raw_path, file_label) %}
    {{ return(adapter.dispatch('raw_file_view_sql', 'customer_segmentation')(
        table_name, columns, header, reader, fmt, raw_path, file_label)) }}
{% endmacro %}

{#- Spark: `_metadata.file_path` names the file; Parquet gives each row's position (`_metadata.row_index`); a CSV
    row's position is its order in the scan (monotonically_increasing_id grows in file order within a file). -#}
{% macro spark__raw_file_view_sql(table_name, columns, header, reader, fmt, raw_path, file_label) %}
    {#- a file in a folder table (orders/*.csv) is named folder/file, as on DuckDB -#}
    {% set name_pattern = '[^/]+/[^/]+$' if '/' in file_label else '[^/]+$' %}
    create or replace view raw.{{ table_name }} as
    with scanned as (
        select
            *,
            _metadata.file_path as _file_path,
            {%- if fmt == 'csv' %}
            monotonically_increasing_id() as _scan_position
            {%- else %}
            _metadata.row_index as _scan_position
            {%- endif %}
        from {{ reader }}
    )
    select
        {{ raw_text_columns(columns, header) }},
        regexp_extract(replace(_file_path, '%20', ' '), {{ regex_literal(name_pattern) }}, 0) as _source_file,
        {%- if fmt == 'csv' %}
        row_number() over (partition by _file_path order by _scan_position) as _source_row_number
        {%- else %}
        _scan_position + 1 as _source_row_number
        {%- endif %}
    from scanned
{% endmacro %}

{% macro default__raw_file_view_sql(table_name, columns, header, reader, fmt, raw_path, file_label) %}
    create or replace view raw.{{ table_name }} as
    {%- if fmt == 'csv' %}
    with scanned as (
        select *, row_number() over () as _scan_row_number
        from {{ reader }}
    )
    {%- endif %}
    select
        {{ raw_text_columns(columns, header) }},
        replace(replace(_source_file, '\\', '/'), '{{ raw_path.replace("'", "''") }}/', '') as _source_file,
        {%- if fmt == 'csv' %}
        _scan_row_number - min(_scan_row_number) over (partition by _source_file) + 1 as _source_row_number
    from scanned
        {%- else %}
        file_row_number + 1 as _source_row_number
    from {{ reader }}
        {%- endif %}
{% endmacro %}


{#- Every contract column as text: the file's column (matched case-insensitively through `header`) or null. -#}
{% macro raw_text_columns(columns, header) %}
    {%- for column in columns %}
        {% if column in header -%}
        cast({{ adapter.quote(header[column]) }} as string)
        {%- else -%}
        cast(null as string)
        {%- endif %} as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro raw_empty_view_sql(table_name, columns) %}
    create or replace view raw.{{ table_name }} as
    select
        {%- for column in columns %}
        cast(null as string) as {{ column }},
        {%- endfor %}
        cast(null as string) as _source_file,
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
