{#- Expressions whose spelling differs between the engines the project runs on (DuckDB, the default, and Apache
    Spark; docs/other-engines.md). Each is an adapter.dispatch macro: `duckdb__` and `spark__` implementations,
    `default__` = the DuckDB spelling where it is standard SQL. Regular-expression patterns are passed as the bare
    pattern (no quotes, single backslashes); each implementation writes the literal its engine needs. -#}

{#- A pattern as a SQL string literal: DuckDB reads backslashes as they are, Spark's parser unescapes them. -#}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal', 'customer_segmentation')(pattern)) }}
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}
    '{{ pattern.replace("'", "''") }}'
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    '{{ pattern.replace("\\", "\\\\").replace("'", "\\'") }}'
{%- endmacro %}


{#- true when the whole of `expression` matches `pattern` (null when expression is null) -#}
{% macro regex_full_match(expression, pattern, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_full_match', 'customer_segmentation')(expression, pattern, case_insensitive)) }}
{%- endmacro %}

{% macro default__regex_full_match(expression, pattern, case_insensitive) -%}
    regexp_full_match({{ expression }}, {{ regex_literal(pattern) }}{% if case_insensitive %}, 'i'{% endif %})
{%- endmacro %}

{% macro spark__regex_full_match(expression, pattern, case_insensitive) -%}
    ({{ expression }} rlike {{ regex_literal(('(?i)' if case_insensitive else '') ~ '^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}


{#- true when `pattern` matches somewhere in `expression` -#}
{% macro regex_contains(expression, pattern, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_contains', 'customer_segmentation')(expression, pattern, case_insensitive)) }}
{%- endmacro %}

{% macro default__regex_contains(expression, pattern, case_insensitive) -%}
    regexp_matches({{ expression }}, {{ regex_literal(pattern) }}{% if case_insensitive %}, 'i'{% endif %})
{%- endmacro %}

{% macro spark__regex_contains(expression, pattern, case_insensitive) -%}
    ({{ expression }} rlike {{ regex_literal(('(?i)' if case_insensitive else '') ~ pattern) }})
{%- endmacro %}


{#- every match of `pattern` replaced by `replacement` -#}
{% macro regex_replace_all(expression, pattern, replacement, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'customer_segmentation')(
        expression, pattern, replacement, case_insensitive)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expression, pattern, replacement, case_insensitive) -%}
    regexp_replace({{ expression }}, {{ regex_literal(pattern) }}, '{{ replacement }}', '{{ "gi" if case_insensitive else "g" }}')
{%- endmacro %}

{% macro spark__regex_replace_all(expression, pattern, replacement, case_insensitive) -%}
    regexp_replace({{ expression }}, {{ regex_literal(('(?i)' if case_insensitive else '') ~ pattern) }}, '{{ replacement }}')
{%- endmacro %}


{#- the first match of `pattern` in `expression`, or its capture group `group`; '' when nothing matches -#}
{% macro regex_extract(expression, pattern, group=0) -%}
    regexp_extract({{ expression }}, {{ regex_literal(pattern) }}, {{ group }})
{%- endmacro %}


{#- Select-list items that give one row per part of `expression` split where `pattern` matches: `part` and
    `part_position` (0 for the first part). A null expression gives no row. -#}
{% macro split_to_rows(expression, pattern) -%}
    {{ return(adapter.dispatch('split_to_rows', 'customer_segmentation')(expression, pattern)) }}
{%- endmacro %}

{% macro default__split_to_rows(expression, pattern) -%}
    unnest(string_split_regex({{ expression }}, {{ regex_literal(pattern) }})) as part,
    unnest(range(len(string_split_regex({{ expression }}, {{ regex_literal(pattern) }})))) as part_position
{%- endmacro %}

{% macro spark__split_to_rows(expression, pattern) -%}
    posexplode(split({{ expression }}, {{ regex_literal(pattern) }})) as (part_position, part)
{%- endmacro %}


{#- The values of `expression` joined by `separator`, in the order of `order_by` (an aggregate) -#}
{% macro ordered_string_agg(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'customer_segmentation')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, '{{ separator }}' order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    listagg({{ expression }}, '{{ separator }}') within group (order by {{ order_by }})
{%- endmacro %}


{#- Lower case without diacritics: `Đà Nẵng` -> `da nang`, precomposed (NFC) or decomposed (NFD) alike. -#}
{% macro unaccent_lower(expression) -%}
    {{ return(adapter.dispatch('unaccent_lower', 'customer_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__unaccent_lower(expression) -%}
    replace(strip_accents(lower(nfc_normalize({{ expression }}))), 'đ', 'd')
{%- endmacro %}

{#- Spark has no accent stripping: precomposed Latin letters are translated to their base letter (the table is
    every lower-case letter of Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional whose Unicode
    decomposition is one ASCII letter and combining marks, which is what DuckDB's strip_accents drops), then any
    combining mark left (decomposed input) is removed. -#}
{% macro spark__unaccent_lower(expression) -%}
    replace(regexp_replace(translate(lower({{ expression }}),
        'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ',
        'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy'), '\\p{M}', ''), 'đ', 'd')
{%- endmacro %}


{#- A 64-bit hash of one or more expressions (only ever compared with itself, within one query) -#}
{% macro hash64(expressions) -%}
    {{ return(adapter.dispatch('hash64', 'customer_segmentation')(expressions)) }}
{%- endmacro %}

{% macro default__hash64(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__hash64(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}


{#- A value ordered by several expressions in turn, for min_by/max_by (`ordering_key(['ordered_at', 'order_id'])`) -#}
{% macro ordering_key(expressions) -%}
    {{ return(adapter.dispatch('ordering_key', 'customer_segmentation')(expressions)) }}
{%- endmacro %}

{% macro default__ordering_key(expressions) -%}
    ({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__ordering_key(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}


{#- ISO day of the week: 1 = Monday ... 7 = Sunday -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'customer_segmentation')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    extract(isodow from {{ date_expression }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expression) -%}
    extract(dayofweek_iso from {{ date_expression }})
{%- endmacro %}


{#- true when `value` is one of the `separator`-separated items of `list_text` -#}
{% macro list_text_contains(list_text, separator, value) -%}
    {{ return(adapter.dispatch('list_text_contains', 'customer_segmentation')(list_text, separator, value)) }}
{%- endmacro %}

{% macro default__list_text_contains(list_text, separator, value) -%}
    list_contains(string_split({{ list_text }}, '{{ separator }}'), {{ value }})
{%- endmacro %}

{% macro spark__list_text_contains(list_text, separator, value) -%}
    array_contains(split({{ list_text }}, {{ regex_literal('\\Q' ~ separator ~ '\\E') }}), {{ value }})
{%- endmacro %}


{#- `select *` without some columns, of a relation (a ref or source): DuckDB's `* exclude (...)`; elsewhere the
    column list read from the warehouse (the relation exists when the model runs: it is upstream). -#}
{% macro star_except(relation, except, relation_alias=none) -%}
    {{ return(adapter.dispatch('star_except', 'customer_segmentation')(relation, except, relation_alias)) }}
{%- endmacro %}

{% macro duckdb__star_except(relation, except, relation_alias=none) -%}
    {{ relation_alias ~ '.' if relation_alias }}* exclude ({{ except | join(', ') }})
{%- endmacro %}

{% macro default__star_except(relation, except, relation_alias=none) -%}
    {%- if not execute -%}
        *
    {%- else -%}
        {%- set excluded = except | map('lower') | list -%}
        {%- set kept = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower not in excluded -%}
            {%- do kept.append((relation_alias ~ '.' if relation_alias else '') ~ adapter.quote(column.name)) -%}
        {%- endfor -%}
        {%- if kept | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "star_except: no column of " ~ relation ~ " is left (does the relation exist?)") }}
        {%- endif -%}
        {{ kept | join(', ') }}
    {%- endif -%}
{%- endmacro %}


{#- Whether the engine runs the dbt Python models (int_customers__clv_fitted, int_customers__clv_scored). Where it
    does not, they and the mart clv_model_params are disabled (dbt_project.yml, same rule) and the predicted columns
    are null (docs/other-engines.md). -#}
{% macro python_models_enabled() -%}
    {{ return(target.type == 'duckdb') }}
{%- endmacro %}


{#- The materialisation of the incremental models (base orders and order lines: delete+insert on the order key;
    the segment history: delete+insert on as_of_date). Spark without Delta Lake has neither delete nor merge: there
    they are tables rebuilt in full on every run, so the history holds only the current as-of date. -#}
{% macro incremental_or_table() -%}
    {{ return(adapter.dispatch('incremental_or_table', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro default__incremental_or_table() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_or_table() -%}
    {{ return('table') }}
{%- endmacro %}


{#- One row per cell of `expressions` in `relation`: (column_name, cell_value), column_name being the expression's
    text (a column name). DuckDB unnests two lists side by side; Spark uses the stack generator. -#}
{% macro unpivot_cells(relation, expressions) -%}
    {{ return(adapter.dispatch('unpivot_cells', 'customer_segmentation')(relation, expressions)) }}
{%- endmacro %}

{% macro default__unpivot_cells(relation, expressions) -%}
    select
        unnest(['{{ expressions | join("', '") }}']) as column_name,
        unnest([{{ expressions | join(', ') }}]) as cell_value
    from {{ relation }}
{%- endmacro %}

{% macro spark__unpivot_cells(relation, expressions) -%}
    select stack({{ expressions | length }}
        {%- for expression in expressions %}, '{{ expression }}', {{ expression }}{% endfor %}) as (column_name, cell_value)
    from {{ relation }}
{%- endmacro %}


{#- A number in [0, 1) from the first 32 bits of the MD5 of a text: the same on every engine and in Python
    (int(hashlib.md5(text.encode()).hexdigest()[:8], 16) / 2**32), stable across versions (unlike hash64). -#}
{% macro unit_interval_md5(expression) -%}
    {{ return(adapter.dispatch('unit_interval_md5', 'customer_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__unit_interval_md5(expression) -%}
    cast(('0x' || substr(md5({{ expression }}), 1, 8)) as bigint) / 4294967296.0
{%- endmacro %}

{% macro spark__unit_interval_md5(expression) -%}
    cast(conv(substr(md5({{ expression }}), 1, 8), 16, 10) as bigint) / 4294967296.0
{%- endmacro %}
