{#- The raw layer: where the input contract (models/staging/shop/raw/_shop__raw.yml) meets the user's source.

    A source is one of three kinds, from the vars raw_data_path and raw_schema:
    - folder:   raw_data_path names a folder; each table is one file <table>.csv, <table>.csv.gz or <table>.parquet,
                or a sub-folder <table>/ of such files (names without regard to case);
    - database: raw_data_path names a DuckDB database file (.duckdb, .db), attached read-only; its tables sit in
                schema raw_schema (default main);
    - schema:   raw_schema alone (not on DuckDB): the tables a loader wrote into that schema of the target.
    Every raw node (models/staging/shop/raw/raw_shop__<table>.sql, a view in schema raw) is `raw_input('<table>')`: compiled
    against the source at compile time, so `dbt show` and `dbt compile` read the source too, before any build.
    The on-run-start hook check_raw_input() checks every table once and stops a build, with one line naming the
    file or table and column, on what cannot be built. -#}


{#- The contract as a dict: table -> {model, required, columns: [names], required_columns, kinds: {column: kind},
    description}. Read from the raw models' YAML in the graph (available when `execute` is true). -#}
{% macro raw_contract() %}
    {% set contract = {} %}
    {% for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name
            and (node.config.meta or {}).get('raw_table') %}
        {% set columns = [] %}
        {% set required_columns = [] %}
        {% set kinds = {} %}
        {% for name, column in node.columns.items() if not name.startswith('_source_') %}
            {% do columns.append(name) %}
            {% do kinds.update({name: (column.meta or {}).get('kind', 'text')}) %}
            {% if (column.meta or {}).get('required') %}{% do required_columns.append(name) %}{% endif %}
        {% endfor %}
        {% do contract.update({node.config.meta.raw_table: {
            'model': node.name, 'required': node.config.meta.get('required', false), 'columns': columns,
            'required_columns': required_columns, 'kinds': kinds}}) %}
    {% endfor %}
    {{ return(contract) }}
{% endmacro %}


{#- The source named by the vars: {kind, path (as the user named it), read_path (what is read: the pre-flight's
    repaired copy when make build made one, passed in the environment variable RAW_READ_PATH, which the publish step
    sets, empty when it repaired nothing, for its own dbt run only; else the var raw_read_path), schema, label (for
    messages), identity (recorded with the warehouse)}. The repaired copy's folder is new for every build: as a var
    it would change dbt's vars, and dbt parses the whole project again whenever its vars change. -#}
{% macro raw_source() %}
    {% set path = (var('raw_data_path', '') or '') | string | trim %}
    {% set path = path[:-1] if path.endswith('/') and path | length > 1 else path %}
    {% set read_path = (env_var('RAW_READ_PATH', '') or var('raw_read_path', '') or '') | string | trim %}
    {% set read_path = read_path[:-1] if read_path.endswith('/') and read_path | length > 1 else read_path %}
    {% set schema = (var('raw_schema', '') or '') | string | trim %}
    {% if schema | lower == 'raw' %}
        {{ exceptions.raise_compiler_error(
            "raw_schema 'raw' is the project's own schema; name the schema your loader writes to") }}
    {% endif %}
    {% set lowered = path | lower %}
    {% if lowered.endswith('.duckdb') or lowered.endswith('.db') %}
        {% if target.type != 'duckdb' %}
            {{ exceptions.raise_compiler_error(
                "raw_data_path '" ~ path ~ "': a DuckDB database file is read on the duckdb target only; on "
                ~ target.type ~ " set raw_schema to the schema your loader writes to") }}
        {% endif %}
        {{ return({'kind': 'database', 'path': path, 'read_path': read_path or path, 'schema': schema or 'main',
                   'label': "raw database '" ~ path ~ "'",
                   'identity': 'database ' ~ absolute_path(path) ~ ' schema ' ~ (schema or 'main')}) }}
    {% elif schema %}
        {% if path %}
            {{ exceptions.raise_compiler_error(
                "raw_data_path '" ~ path ~ "' is a folder and raw_schema is '" ~ schema ~ "': set one of them (raw_schema "
                ~ "goes with a DuckDB database file, or alone for tables a loader wrote into the target)") }}
        {% endif %}
        {% if target.type == 'duckdb' %}
            {{ exceptions.raise_compiler_error(
                "raw_schema '" ~ schema ~ "' without a database file: on DuckDB a loader writes into a database file of "
                ~ "its own (the build replaces the warehouse file); set raw_data_path to that file") }}
        {% endif %}
        {{ return({'kind': 'schema', 'path': '', 'read_path': '', 'schema': schema,
                   'label': "raw schema '" ~ schema ~ "'", 'identity': 'schema ' ~ schema}) }}
    {% else %}
        {% set path = path or 'data/sample' %}
        {{ return({'kind': 'folder', 'path': path, 'read_path': read_path or path, 'schema': '',
                   'label': "raw_data_path '" ~ path ~ "'", 'identity': 'folder ' ~ absolute_path(path)}) }}
    {% endif %}
{% endmacro %}


{#- A path as the project resolves it (relative paths are relative to the project folder), written one way: the
    same folder named `data/sample`, `./data/sample/` or by its absolute path is one source. -#}
{% macro absolute_path(path) %}
    {% set path = path | replace('\\', '/') %}
    {% if not (path.startswith('/') or (path[1:3] == ':/')) %}
        {% set path = (invocation_args_dict.get('project_dir') or '.') | replace('\\', '/') ~ '/' ~ path %}
    {% endif %}
    {% set parts = [] %}
    {% for part in path.split('/') %}
        {% if part == '..' and parts and parts[-1] not in ('', '..') %}
            {% do parts.pop() %}
        {% elif part not in ('.', '') or loop.first %}
            {% do parts.append(part) %}
        {% endif %}
    {% endfor %}
    {{ return(parts | join('/')) }}
{% endmacro %}


{#- The header mapping {table: {export name (lower-case, trimmed): contract column}}: the var raw_column_map, else the
    file column_map.yml in the raw folder (DuckDB only). -#}
{% macro raw_column_map(source, files=none) %}
    {#- a dict, not a set: a value set inside a for loop does not outlive the loop in Jinja -#}
    {% set found = {'mapping': var('raw_column_map', none), 'origin': 'the var raw_column_map'} %}
    {% if found.mapping is none and source.kind == 'folder' and target.type == 'duckdb' %}
        {% for f in (files or []) if (f | lower).endswith('/column_map.yml') and f.count('/') == source.read_path.count('/') + 1 %}
            {% set text = run_query("select content from read_text('" ~ f.replace("'", "''") ~ "')").columns[0].values()[0] %}
            {% do found.update({'mapping': fromyaml(text), 'origin': f.split('/')[-1]}) %}
        {% endfor %}
    {% endif %}
    {% set mapping = found.mapping %}
    {% set origin = found.origin %}
    {% set result = {} %}
    {% for table_name, names in (mapping or {}).items() %}
        {% set per_table = {} %}
        {% for export_name, column in (names or {}).items() %}
            {% do per_table.update({(export_name | string | trim | lower): column | string | trim | lower}) %}
        {% endfor %}
        {% do result.update({(table_name | string | trim | lower): per_table}) %}
    {% endfor %}
    {{ return({'map': result, 'origin': origin}) }}
{% endmacro %}


{#- Where a table lives in the source: {found: true/false, label (the file, folder or table as the user sees it),
    reader (a relation or table function), fmt (csv, parquet, table), columns: [(name, type)]}. Stops with one line
    when the table is ambiguous or cannot be read. -#}
{% macro locate_raw_table(source, table_name, files) %}
    {% if source.kind == 'folder' %}
        {{ return(locate_raw_files(source, table_name, files)) }}
    {% else %}
        {{ return(adapter.dispatch('locate_raw_database_table', 'customer_segmentation')(source, table_name)) }}
    {% endif %}
{% endmacro %}


{% macro locate_raw_files(source, table_name, files) %}
    {% set root = source.read_path %}
    {% set candidates = [] %}
    {% set workbooks = [] %}
    {% set folder_files = {'csv': [], 'parquet': [], 'other': []} %}
    {% for f in files %}
        {% set relative = f[root | length + 1:] %}
        {% set parts = relative.split('/') %}
        {% set lowered = parts[-1] | lower %}
        {% if parts | length == 1 %}
            {% for ext, fmt in [('.csv', 'csv'), ('.csv.gz', 'csv'), ('.parquet', 'parquet')]
                if lowered == table_name ~ ext %}
                {% do candidates.append({'fmt': fmt, 'paths': [f], 'label': relative}) %}
            {% endfor %}
            {% if lowered in [table_name ~ '.xlsx', table_name ~ '.xls'] %}
                {% do workbooks.append(relative) %}
            {% endif %}
        {% elif parts | length == 2 and parts[0] | lower == table_name %}
            {% if lowered.endswith('.csv') or lowered.endswith('.csv.gz') %}
                {% do folder_files.csv.append(f) %}
            {% elif lowered.endswith('.parquet') %}
                {% do folder_files.parquet.append(f) %}
            {% else %}
                {% do folder_files.other.append(relative) %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if folder_files.csv or folder_files.parquet or folder_files.other %}
        {% set folder_label = (folder_files.csv + folder_files.parquet)[0][root | length + 1:].split('/')[0]
            if (folder_files.csv or folder_files.parquet) else folder_files.other[0].split('/')[0] %}
        {% if folder_files.csv and folder_files.parquet %}
            {{ exceptions.raise_compiler_error(source.label ~ ": folder " ~ folder_label
                ~ "/ holds both .csv and .parquet files; keep one format") }}
        {% elif not folder_files.csv and not folder_files.parquet %}
            {{ exceptions.raise_compiler_error(source.label ~ ": folder " ~ folder_label
                ~ "/ holds no .csv, .csv.gz or .parquet file") }}
        {% endif %}
        {% set fmt = 'csv' if folder_files.csv else 'parquet' %}
        {% do candidates.append({'fmt': fmt, 'paths': folder_files[fmt] | sort, 'label': folder_label ~ '/*.' ~ fmt}) %}
    {% endif %}
    {% if candidates | length > 1 or (candidates and workbooks) %}
        {% set names = (candidates | map(attribute='label') | list) + workbooks %}
        {{ exceptions.raise_compiler_error(source.label ~ ": " ~ ('both ' if names | length == 2 else '')
            ~ (names | join(' and ')) ~ " exist for table " ~ table_name ~ "; keep one") }}
    {% endif %}
    {% if workbooks %}
        {{ exceptions.raise_compiler_error(source.label ~ ": " ~ workbooks[0] ~ " is an Excel workbook, which dbt "
            ~ "cannot read: `make build` reads it (the pre-flight, python -m segmentation.preflight, converts its "
            ~ "first sheet to CSV), or save it as " ~ table_name ~ ".csv") }}
    {% endif %}
    {% if not candidates %}
        {{ return({'found': false}) }}
    {% endif %}
    {% set found = candidates[0] %}
    {% set reader = raw_file_reader(found.fmt, found.paths, table_name) %}
    {% do found.update({'found': true, 'reader': reader, 'columns': raw_reader_column_types(reader)}) %}
    {{ return(found) }}
{% endmacro %}


{#- A table of an attached DuckDB database file. -#}
{% macro default__locate_raw_database_table(source, table_name) %}
    {% set alias = raw_database_alias(source) %}
    {% set tables = run_query(
        "select table_name from information_schema.tables where table_catalog = '" ~ alias
        ~ "' and table_schema = '" ~ source.schema.replace("'", "''") ~ "' order by table_name").columns[0].values() | list %}
    {% set matches = [] %}
    {% for name in tables if name | lower == table_name %}{% do matches.append(name) %}{% endfor %}
    {% if matches | length > 1 %}
        {{ exceptions.raise_compiler_error(source.label ~ ": tables " ~ (matches | join(' and ')) ~ " in schema "
            ~ source.schema ~ " differ only in case; keep one") }}
    {% endif %}
    {% if not matches %}
        {{ return({'found': false, 'tables': tables}) }}
    {% endif %}
    {% set reader = alias ~ '.' ~ adapter.quote(source.schema) ~ '.' ~ adapter.quote(matches[0]) %}
    {{ return({'found': true, 'fmt': 'table', 'reader': reader, 'label': matches[0],
               'columns': raw_reader_column_types(reader)}) }}
{% endmacro %}

{#- A table a loader wrote into a schema of the target (Spark's metastore). -#}
{% macro spark__locate_raw_database_table(source, table_name) %}
    {% set tables = run_query("show tables in " ~ source.schema).columns[1].values() | list %}
    {% set matches = [] %}
    {% for name in tables if name | lower == table_name %}{% do matches.append(name) %}{% endfor %}
    {% if not matches %}
        {{ return({'found': false, 'tables': tables}) }}
    {% endif %}
    {% set reader = source.schema ~ '.' ~ matches[0] %}
    {{ return({'found': true, 'fmt': 'table', 'reader': reader, 'label': matches[0],
               'columns': raw_reader_column_types(reader)}) }}
{% endmacro %}


{#- The database file attached read-only under a name of its own (the same file always gets the same name). -#}
{% macro raw_database_alias(source) %}
    {% set alias = 'raw_source_' ~ local_md5(source.read_path)[:10] %}
    {% set attached = run_query("select count(*) from duckdb_databases() where database_name = '" ~ alias ~ "'") %}
    {% if attached.columns[0].values()[0] == 0 %}
        {% set exists = run_query("select count(*) from glob('" ~ source.read_path.replace("'", "''") ~ "')") %}
        {% if exists.columns[0].values()[0] == 0 %}
            {{ exceptions.raise_compiler_error(source.label ~ ": file does not exist (set the dbt var raw_data_path "
                ~ "or the RAW_DATA_PATH environment variable)") }}
        {% endif %}
        {% do run_query("attach if not exists '" ~ source.read_path.replace("'", "''") ~ "' as " ~ alias ~ " (read_only)") %}
    {% endif %}
    {{ return(alias) }}
{% endmacro %}


{#- The files in the raw folder and its subfolders (one level), as `read_path/name`, with forward slashes. -#}
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


{#- A list of file paths as a DuckDB list literal of strings: ['a.parquet', 'b''s.parquet']. -#}
{% macro duckdb_path_list(paths) %}
    {%- set quoted = [] -%}
    {%- for path in paths %}{% do quoted.append("'" ~ path.replace("'", "''") ~ "'") %}{% endfor -%}
    {{ return('[' ~ (quoted | join(', ')) ~ ']') }}
{% endmacro %}


{#- What a raw file table is read through: a DuckDB table function over the list of its files, or on Spark an
    external table over the file(s) (raw.<table>__file; dropping it leaves the files alone). -#}
{% macro raw_file_reader(fmt, paths, table_name) %}
    {{ return(adapter.dispatch('raw_file_reader', 'customer_segmentation')(fmt, paths, table_name)) }}
{% endmacro %}

{% macro default__raw_file_reader(fmt, paths, table_name) %}
    {%- set listed = duckdb_path_list(paths) -%}
    {%- if fmt == 'csv' -%}
        read_csv({{ listed }}, header = true, all_varchar = true, auto_detect = true,
            union_by_name = true, filename = '_source_file')
    {%- else -%}
        read_parquet({{ listed }}, union_by_name = true, filename = '_source_file',
            file_row_number = true)
    {%- endif -%}
{% endmacro %}

{% macro spark__raw_file_reader(fmt, paths, table_name) %}
    {#- a relative path would be read relative to the table's own folder: use the absolute folder that
        spark__list_raw_files found -#}
    {% set source = raw_source() %}
    {% set root = spark_raw_root(run_query("select path from raw_data_files").columns[0].values() | map('string') | list) %}
    {% set absolute = [] %}
    {% for path in paths %}{% do absolute.append(root ~ path[source.read_path | length:]) %}{% endfor %}
    {% set relation = 'raw.' ~ table_name ~ '__file' %}
    {% do run_query('create schema if not exists raw') %}
    {% do run_query('drop table if exists ' ~ relation) %}
    {% set options = "header 'true', inferSchema 'false', multiLine 'true', encoding 'UTF-8', escape '\"'"
        if fmt == 'csv' else "mergeSchema 'true'" %}
    {#- one file, or the folder of a folder table (Spark reads every file in it) -#}
    {% set location = absolute[0] if absolute | length == 1 else absolute[0].rsplit('/', 1)[0] %}
    {% do run_query('create table ' ~ relation ~ ' using ' ~ fmt ~ " options (path '"
        ~ location.replace("'", "\\'") ~ "', " ~ options ~ ')') %}
    {{ return(relation) }}
{% endmacro %}


{#- The columns a reader gives, as [(name, type)], without the reader's own columns. -#}
{% macro raw_reader_column_types(reader) %}
    {{ return(adapter.dispatch('raw_reader_column_types', 'customer_segmentation')(reader)) }}
{% endmacro %}

{% macro default__raw_reader_column_types(reader) %}
    {% set described = run_query('describe select * from ' ~ reader) %}
    {% set columns = [] %}
    {% for row in described.rows if row[0] not in ['_source_file', 'file_row_number'] %}
        {% do columns.append((row[0], row[1] | string | upper)) %}
    {% endfor %}
    {{ return(columns) }}
{% endmacro %}

{% macro spark__raw_reader_column_types(reader) %}
    {% set described = run_query('describe ' ~ reader) %}
    {% set columns = [] %}
    {% for row in described.rows %}
        {% if not row[0] or (row[0] | string).startswith('#') %}{% break %}{% endif %}
        {% do columns.append((row[0], row[1] | string | upper)) %}
    {% endfor %}
    {{ return(columns) }}
{% endmacro %}


{#- A raw table matched against the contract: {found, label, reader, fmt, header: {contract column: source column},
    types: {contract column: source type}, notes: [lines for the log]}. Stops with one line on a missing required
    table or column. -#}
{% macro resolve_raw_table(table_name, source=none, files=none, column_map=none) %}
    {% set source = source or raw_source() %}
    {% set spec = raw_contract()[table_name] %}
    {% if files is none and source.kind == 'folder' %}
        {% set files = list_raw_files(source.read_path) %}
        {% if files | length == 0 %}
            {{ exceptions.raise_compiler_error(source.label ~ ": folder does not exist or is empty (set the dbt var "
                ~ "raw_data_path or the RAW_DATA_PATH environment variable)") }}
        {% endif %}
    {% endif %}
    {% set column_map = column_map or raw_column_map(source, files) %}
    {% set located = locate_raw_table(source, table_name, files) %}
    {% set notes = [] %}
    {% if not located.found %}
        {% if spec.required %}
            {% if source.kind == 'folder' %}
                {{ exceptions.raise_compiler_error(source.label ~ ": required file " ~ table_name ~ ".csv, "
                    ~ table_name ~ ".csv.gz or " ~ table_name ~ ".parquet (or a folder " ~ table_name
                    ~ "/ of such files; names in any case) is missing") }}
            {% else %}
                {{ exceptions.raise_compiler_error(source.label ~ ": required table '" ~ table_name ~ "' is missing in "
                    ~ "schema " ~ source.schema ~ "; found: " ~ ((located.tables or []) | join(', ') or 'no table')) }}
            {% endif %}
        {% endif %}
        {% if source.kind == 'folder' %}
            {% do notes.append(table_name ~ ': no file in ' ~ source.path ~ ', read as an empty table') %}
        {% else %}
            {% do notes.append(table_name ~ ': no table in ' ~ source.label ~ ' (schema ' ~ source.schema
                ~ '), read as an empty table') %}
        {% endif %}
        {{ return({'found': false, 'notes': notes}) }}
    {% endif %}
    {% set by_name = {} %}
    {% for name, type in located.columns %}
        {% do by_name.update({(name | string | trim | lower): (name, type)}) %}
    {% endfor %}
    {% set mapping = column_map.map.get(table_name, {}) %}
    {% set header = {} %}
    {% set types = {} %}
    {% for export_name, column in mapping.items() %}
        {% if column not in spec.columns %}
            {{ exceptions.raise_compiler_error(column_map.origin ~ ": " ~ table_name ~ ": '" ~ export_name ~ "' is mapped to '"
                ~ column ~ "', which is not a column of " ~ table_name ~ " (" ~ (spec.columns | join(', ')) ~ ")") }}
        {% endif %}
        {% if export_name in by_name %}
            {% do header.update({column: by_name[export_name][0]}) %}
            {% do types.update({column: by_name[export_name][1]}) %}
        {% endif %}
    {% endfor %}
    {% for column in spec.columns if column not in header and column in by_name %}
        {% do header.update({column: by_name[column][0]}) %}
        {% do types.update({column: by_name[column][1]}) %}
    {% endfor %}
    {% for column in spec.required_columns if column not in header %}
        {% set expected = [] %}
        {% for export_name, mapped in mapping.items() if mapped == column %}{% do expected.append(export_name) %}{% endfor %}
        {{ exceptions.raise_compiler_error(located.label ~ " (in " ~ (source.path if source.kind == 'folder' else source.label)
            ~ "): required column '" ~ column
            ~ "' is missing" ~ ((" (" ~ column_map.origin ~ " maps '" ~ expected[0] ~ "' to it)") if expected else '')
            ~ "; found: " ~ (located.columns | map(attribute=0) | join(', '))
            ~ (" (map an export's own column names in column_map.yml beside the data, or the var raw_column_map)"
               if not expected else '')) }}
    {% endfor %}
    {% for column in spec.columns if column not in header %}
        {% do notes.append(located.label ~ ": optional column '" ~ column ~ "' is absent, read as empty") %}
    {% endfor %}
    {% set used = header.values() | list %}
    {% for name, type in located.columns if name not in used %}
        {% do notes.append(located.label ~ ": column '" ~ name ~ "' is not in the input contract, ignored") %}
    {% endfor %}
    {% do located.update({'header': header, 'types': types, 'notes': notes}) %}
    {{ return(located) }}
{% endmacro %}


{#- The SQL of a raw node: every contract column as text (a typed column as the text its parsing reads back, see
    raw_text_value), `_source_file` (relative to the raw folder, or the table's name) and `_source_row_number`
    (1-based, header excluded) within that file. An absent optional table is an empty relation. -#}
{% macro raw_input(table_name) %}
    {% if not execute %}
        {{ return(raw_empty_select(table_name, [])) }}
    {% endif %}
    {% set spec = raw_contract()[table_name] %}
    {% set resolved = resolve_raw_table(table_name) %}
    {% if not resolved.found %}
        {{ return(raw_empty_select(table_name, spec.columns)) }}
    {% endif %}
    {{ return(adapter.dispatch('raw_select', 'customer_segmentation')(table_name, spec, resolved, raw_source())) }}
{% endmacro %}


{% macro raw_empty_select(table_name, columns) %}
    {%- set lines = [] -%}
    {%- for column in columns %}{% do lines.append('cast(null as string) as ' ~ column) %}{% endfor -%}
    select
        {{ (lines + ['cast(null as string) as _source_file', 'cast(null as bigint) as _source_row_number']) | join(',\n        ') }}
    where false
{%- endmacro %}


{#- A column as the text the base models parse. Text stays text (cast). A typed column is written so that its
    parsing reads back exactly its value: a timestamp with a time zone in local time of source_timezone; an amount
    stored as a DOUBLE or a DECIMAL with more than two decimals becomes DECIMAL(18,2) text when it has at most two
    (else it keeps its digits plus a note, which the base models reject as unparseable_value: a sub-đồng amount is a
    unit mistake, not money); everything else is cast to text. -#}
{% macro raw_text_value(quoted, type, kind) %}
    {%- set type = type | upper -%}
    {%- if type in ('VARCHAR', 'STRING', 'TEXT') or type.startswith('VARCHAR') or type.startswith('STRING') -%}
        cast({{ quoted }} as string)
    {%- elif raw_type_is_instant(type) -%}
        {{ raw_local_timestamp_text(quoted) }}
    {%- elif kind == 'amount' and (type in ('DOUBLE', 'FLOAT', 'REAL') or (type.startswith('DECIMAL') and not type.endswith(',0)') and not type.endswith(',1)') and not type.endswith(',2)') and not type.endswith(', 0)') and not type.endswith(', 1)') and not type.endswith(', 2)'))) -%}
        case
            when {{ quoted }} = round({{ quoted }}, 2) then cast(cast({{ quoted }} as decimal(38, 2)) as string)
            else cast({{ quoted }} as string) || ' (more than 2 decimals)'
        end
    {%- else -%}
        cast({{ quoted }} as string)
    {%- endif -%}
{%- endmacro %}

{#- A type that holds an instant (converted to local time), not a local date-time: DuckDB's TIMESTAMP WITH TIME ZONE;
    on Spark, TIMESTAMP itself (TIMESTAMP_NTZ is the local one). -#}
{% macro raw_type_is_instant(type) %}
    {{ return(adapter.dispatch('raw_type_is_instant', 'customer_segmentation')(type | upper)) }}
{% endmacro %}

{% macro default__raw_type_is_instant(type) %}
    {{ return('TIME ZONE' in type or type in ('TIMESTAMPTZ', 'TIMESTAMP_LTZ')) }}
{% endmacro %}

{% macro spark__raw_type_is_instant(type) %}
    {{ return(type in ('TIMESTAMP', 'TIMESTAMP_LTZ')) }}
{% endmacro %}

{% macro raw_local_timestamp_text(quoted) %}
    {{ return(adapter.dispatch('raw_local_timestamp_text', 'customer_segmentation')(quoted)) }}
{% endmacro %}

{% macro default__raw_local_timestamp_text(quoted) -%}
    cast(timezone('{{ var("source_timezone") }}', {{ quoted }}) as string)
{%- endmacro %}

{% macro spark__raw_local_timestamp_text(quoted) -%}
    cast(from_utc_timestamp({{ quoted }}, '{{ var("source_timezone") }}') as string)
{%- endmacro %}


{% macro raw_text_columns(spec, resolved) %}
    {%- set lines = [] -%}
    {%- for column in spec.columns -%}
        {%- if column in resolved.header -%}
            {%- do lines.append(raw_text_value(adapter.quote(resolved.header[column]), resolved.types[column],
                                               spec.kinds[column]) ~ ' as ' ~ column) -%}
        {%- else -%}
            {%- do lines.append('cast(null as string) as ' ~ column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column, type in raw_typed_types(spec, resolved).items() -%}
        {%- do lines.append(raw_typed_value(adapter.quote(resolved.header[column]), type, spec.kinds[column])
                            ~ ' as ' ~ column ~ '__typed') -%}
    {%- endfor -%}
    {{ return(lines | join(',\n        ')) }}
{%- endmacro %}


{#- Typed sources are not parsed back from text. A column of kind timestamp, date, amount or integer whose source
    type already says what it is (a DATE or TIMESTAMP, an integer or DECIMAL, a DOUBLE amount) gets, beside its text,
    a column `<column>__typed` holding its value (see raw_typed_value); the base models read it first and parse the
    text only where it is null (typed_or_parsed in macros/parsing.sql), so a typed source pays no parsing: the text
    stays for the rejected rows and the duplicate checks, and a value the typed column cannot hold (an amount with
    more than two decimals) is still rejected from its text. The same value either way: the text is written so
    that its parsing reads back exactly the typed value (raw_text_value; test_database_source.py compares the
    marts). {column: source type} of those columns. -#}
{% macro raw_typed_types(spec, resolved) %}
    {% set typed = {} %}
    {% for column, type in (resolved.types or {}).items()
        if spec.kinds.get(column) in ('timestamp', 'date', 'amount', 'integer')
            and raw_typed_family(type, spec.kinds[column]) %}
        {% do typed.update({column: type}) %}
    {% endfor %}
    {{ return(typed) }}
{% endmacro %}


{#- False while dbt parses the project and in a unit test, whose raw inputs are its fixtures (written as text; its
    context has no graph of nodes): the raw source is not looked at then. -#}
{% macro raw_tables_readable() %}
    {{ return(execute and 'nodes' in graph and model.resource_type != 'unit_test') }}
{% endmacro %}


{#- The typed columns of a raw table as the base models see them ({column: source type}; empty where the source is
    text, and while dbt parses the project). `resolved`: resolve_raw_table's result when the caller has it. -#}
{% macro raw_typed_columns(table_name, resolved=none) %}
    {% if not raw_tables_readable() %}
        {{ return({}) }}
    {% endif %}
    {% set resolved = resolved or resolve_raw_table(table_name) %}
    {% if not resolved.found %}
        {{ return({}) }}
    {% endif %}
    {{ return(raw_typed_types(raw_contract()[table_name], resolved)) }}
{% endmacro %}


{#- 'instant', 'timestamp', 'date', 'integer', 'decimal' or 'float' for a source type a column of this kind reads
    as typed; none for text and for types read through their text (e.g. a number in a timestamp column). -#}
{% macro raw_typed_family(type, kind) %}
    {{ return(adapter.dispatch('raw_typed_family', 'customer_segmentation')(type | upper, kind)) }}
{% endmacro %}

{% macro default__raw_typed_family(type, kind) %}
    {% set integers = ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
                       'UBIGINT', 'UHUGEINT', 'INT', 'INT1', 'INT2', 'INT4', 'INT8', 'LONG', 'SHORT') %}
    {% if kind in ('timestamp', 'date') %}
        {% if raw_type_is_instant(type) %}{{ return('instant') }}
        {% elif type.startswith('TIMESTAMP') or type == 'DATETIME' %}{{ return('timestamp') }}
        {% elif type == 'DATE' %}{{ return('date') }}
        {% endif %}
    {% elif type in integers %}
        {{ return('integer') }}
    {% elif kind == 'amount' and type.startswith('DECIMAL') %}
        {{ return('decimal') }}
    {% elif kind == 'amount' and type in ('DOUBLE', 'FLOAT', 'REAL', 'FLOAT4', 'FLOAT8') %}
        {{ return('float') }}
    {% endif %}
    {{ return(none) }}
{% endmacro %}

{#- Spark reads its typed tables through their text for now (docs/other-engines.md). -#}
{% macro spark__raw_typed_family(type, kind) %}
    {{ return(none) }}
{% endmacro %}


{#- A typed column's value, in the type the base models use for its kind: a local TIMESTAMP (an instant in
    source_timezone), a DATE, a DECIMAL(18,2) amount (null when it has more than two decimals or does not fit: its
    text is then rejected), an integer as it is. -#}
{% macro raw_typed_value(quoted, type, kind) %}
    {%- set family = raw_typed_family(type, kind) -%}
    {%- set value = ("timezone('" ~ var('source_timezone') ~ "', " ~ quoted ~ ")") if family == 'instant' else quoted -%}
    {%- if kind == 'timestamp' -%}
        cast({{ value }} as timestamp)
    {%- elif kind == 'date' -%}
        cast({{ value }} as date)
    {%- elif kind == 'amount' -%}
        case when {{ quoted }} = round({{ quoted }}, 2) then try_cast({{ quoted }} as decimal(18, 2)) end
    {%- else -%}
        {{ quoted }}
    {%- endif -%}
{%- endmacro %}


{% macro default__raw_select(table_name, spec, resolved, source) %}
    {%- if resolved.fmt == 'table' %}
    select
        {{ raw_text_columns(spec, resolved) }},
        '{{ resolved.label.replace("'", "''") }}' as _source_file,
        row_number() over () as _source_row_number
    from {{ resolved.reader }}
    {%- elif resolved.fmt == 'csv' %}
    select
        {{ raw_text_columns(spec, resolved) }},
        replace(replace(_source_file, '\\', '/'), '{{ source.read_path.replace("'", "''") }}/', '') as _source_file,
        _scan_row_number - min(_scan_row_number) over (partition by _source_file) + 1 as _source_row_number
    from (select *, row_number() over () as _scan_row_number from {{ resolved.reader }}) as scanned
    {%- else %}
    select
        {{ raw_text_columns(spec, resolved) }},
        replace(replace(_source_file, '\\', '/'), '{{ source.read_path.replace("'", "''") }}/', '') as _source_file,
        file_row_number + 1 as _source_row_number
    from {{ resolved.reader }}
    {%- endif %}
{% endmacro %}

{#- Spark: `_metadata.file_path` names the file; Parquet gives each row's position (`_metadata.row_index`); a CSV
    row's position is its order in the scan (monotonically_increasing_id grows in file order within a file). -#}
{% macro spark__raw_select(table_name, spec, resolved, source) %}
    {%- if resolved.fmt == 'table' %}
    select
        {{ raw_text_columns(spec, resolved) }},
        '{{ resolved.label }}' as _source_file,
        row_number() over (order by monotonically_increasing_id()) as _source_row_number
    from {{ resolved.reader }}
    {%- else %}
    {#- a file in a folder table (orders/*.csv) is named folder/file, as on DuckDB -#}
    {% set name_pattern = '[^/]+/[^/]+$' if '/' in resolved.label else '[^/]+$' %}
    select
        {{ raw_text_columns(spec, resolved) }},
        regexp_extract(replace(_file_path, '%20', ' '), {{ regex_literal(name_pattern) }}, 0) as _source_file,
        {%- if resolved.fmt == 'csv' %}
        row_number() over (partition by _file_path order by _scan_position) as _source_row_number
        {%- else %}
        _scan_position + 1 as _source_row_number
        {%- endif %}
    from (
        select
            *,
            _metadata.file_path as _file_path,
            {%- if resolved.fmt == 'csv' %}
            monotonically_increasing_id() as _scan_position
            {%- else %}
            _metadata.row_index as _scan_position
            {%- endif %}
        from {{ resolved.reader }}
    ) as scanned
    {%- endif %}
{% endmacro %}


{#- on-run-start: check the source against the contract, every table once, before any model runs; print what was
    absent or ignored; stop with one line on what cannot be built. -#}
{% macro check_raw_input() %}
    {% if not execute or flags.WHICH not in ('build', 'run', 'test', 'seed', 'retry') %}
        {{ return('') }}
    {% endif %}
    {% set source = raw_source() %}
    {% set files = none %}
    {% if source.kind == 'folder' %}
        {% set files = list_raw_files(source.read_path) %}
        {% if files | length == 0 %}
            {{ exceptions.raise_compiler_error(source.label ~ ": folder does not exist or is empty (set the dbt var "
                ~ "raw_data_path or the RAW_DATA_PATH environment variable)") }}
        {% endif %}
    {% endif %}
    {% set column_map = raw_column_map(source, files) %}
    {% set contract = raw_contract() %}
    {% for table_name in column_map.map if table_name not in contract %}
        {{ exceptions.raise_compiler_error(column_map.origin ~ ": '" ~ table_name ~ "' is not a table of the input "
            ~ "contract (" ~ (contract.keys() | join(', ')) ~ ")") }}
    {% endfor %}
    {% for table_name, spec in contract.items() %}
        {% set resolved = resolve_raw_table(table_name, source, files, column_map) %}
        {% for note in resolved.notes %}
            {% do log('raw input: ' ~ note, info=true) %}
        {% endfor %}
        {% if resolved.found %}
            {% for column, kind in spec.kinds.items()
                if column in spec.required_columns and kind in ('timestamp', 'amount') %}
                {% do check_column_readable(resolved.label, adapter.dispatch('raw_select', 'customer_segmentation')(
                    table_name, spec, resolved, source), column, kind) %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}


{#- A required typed column none of whose first 1,000 filled values can be read is a wrong file or a wrong
    format, not a few bad rows: stop with the column and an example value. -#}
{% macro check_column_readable(file_label, raw_sql, column, kind) %}
    {% set parsed = parse_timestamp('value') if kind == 'timestamp' else parse_amount('value') %}
    {% set sql %}
        with sample as (
            select trim({{ column }}) as value
            from ({{ raw_sql }}) as raw_rows
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

