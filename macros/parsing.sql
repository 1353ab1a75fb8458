{#- Parsing and cleaning expressions shared by the raw-input check and the base models. Each returns null for a
    value it cannot read; the base models turn "text present, value null" into a rejected row. -#}

{#- The words exports write for "no value" (SQL dumps, spreadsheets, pandas), matched on the whole trimmed value in
    any case: such a value is empty, like an empty cell. `-5`, `n/a 12` or `Nonexistent` are not. Lower case, no
    regular-expression metacharacters. -#}
{% macro null_words() -%}
    {{ return(['null', 'n/a', '#n/a', '-', 'none', 'nan']) }}
{%- endmacro %}

{#- A raw value trimmed; null when empty or a null word. The words are matched with one case-insensitive regex (a
    DFA: a third of the cost of upper() and a list), and only on values no longer than the longest word. -#}
{% macro clean_text(column) -%}
    {%- set trimmed = 'trim(' ~ column ~ ')' -%}
    case
        when length({{ trimmed }}) <= {{ null_words() | map('length') | max }}
            and {{ regex_full_match(trimmed, null_words() | join('|'), case_insensitive=true) }}
            then null
        else nullif({{ trimmed }}, '')
    end
{%- endmacro %}


{#- Timestamps with an offset are converted to local time in `source_timezone`; timestamps without one are
    already local time there. The result is a local timestamp without zone. ISO values take the first branch
    (one try_cast); only a value it cannot read tries the repairs (docs/bad-input.md), so that the cost of
    the repairs is paid by the rows that need them. -#}
{% macro parse_timestamp(column) -%}
    coalesce(
        {{ parse_iso_timestamp(column) }},
        {{ parse_day_first_timestamp(column) }},
        {{ parse_excel_serial(column) }}
    )
{%- endmacro %}


{#- A time of day followed by an offset (`Z`, `+07`, `+0700`, `+07:00`) at the end of the value. -#}
{% macro time_with_offset_pattern() -%}
    {{ return('\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*(Z|[+-]\\d{2}(:?\\d{2})?)$') }}
{%- endmacro %}

{#- A value that starts with an ISO date (`2024-01-31`, then the end, a space or `T`). -#}
{% macro iso_date_start_pattern() -%}
    {{ return('^\\d{4}-\\d{1,2}-\\d{1,2}([ T]|$)') }}
{%- endmacro %}

{% macro parse_iso_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_iso_timestamp', 'customer_segmentation')(column)) }}
{%- endmacro %}

{% macro default__parse_iso_timestamp(column) -%}
    case
        when {{ regex_contains(column, time_with_offset_pattern()) }}
            then timezone('{{ var("source_timezone") }}', try_cast({{ column }} as timestamptz))
        else try_cast({{ column }} as timestamp)
    end
{%- endmacro %}

{#- Spark's cast reads more than ISO (a bare year, a 6-digit year), so the value must look like an ISO date first;
    an offset turns the value into an instant, shown in the session time zone (UTC, profiles.yml), from which
    from_utc_timestamp gives the local time in source_timezone. -#}
{% macro spark__parse_iso_timestamp(column) -%}
    case
        when not {{ regex_contains(column, iso_date_start_pattern()) }} then null
        when {{ regex_contains(column, time_with_offset_pattern()) }}
            then from_utc_timestamp(try_cast({{ column }} as timestamp), '{{ var("source_timezone") }}')
        else try_cast({{ column }} as timestamp)
    end
{%- endmacro %}


{#- Vietnam writes dates day first: `31/01/2026`, `1/2/2026 9:05`, `31/01/2026 14:05:00`. An impossible date
    (`31/02/2024`) stays unreadable. -#}
{% macro parse_day_first_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_day_first_timestamp', 'customer_segmentation')(column)) }}
{%- endmacro %}

{% macro default__parse_day_first_timestamp(column) -%}
    try_strptime({{ column }}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y'])
{%- endmacro %}

{% macro spark__parse_day_first_timestamp(column) -%}
    case when {{ regex_full_match(column, '\\d{1,2}/\\d{1,2}/\\d{4}( \\d{1,2}:\\d{1,2}(:\\d{1,2})?)?') }} then coalesce(
        try_to_timestamp({{ column }}, 'd/M/yyyy H:m:s'),
        try_to_timestamp({{ column }}, 'd/M/yyyy H:m'),
        try_to_timestamp({{ column }}, 'd/M/yyyy')
    ) end
{%- endmacro %}


{#- A spreadsheet's date serial (Excel's 1900 date system: day 0 = 1899-12-30, the fraction is the time of day),
    accepted as a number with five digits before an optional fraction: 10000-99999, 1927-05-18 to 2173-10-14.
    Shorter or longer numbers (`2024`, `20240131`) are not read as dates. -#}
{% macro parse_excel_serial(column) -%}
    case
        when {{ regex_full_match(column, '\\d{5}(\\.\\d+)?') }}
            then {{ add_seconds("cast('1899-12-30' as timestamp)",
                "cast(round(cast(" ~ column ~ " as decimal(18, 6)) * 86400) as bigint)") }}
    end
{%- endmacro %}


{% macro add_seconds(timestamp_expression, seconds_expression) -%}
    {{ return(adapter.dispatch('add_seconds', 'customer_segmentation')(timestamp_expression, seconds_expression)) }}
{%- endmacro %}

{% macro default__add_seconds(timestamp_expression, seconds_expression) -%}
    {{ timestamp_expression }} + to_seconds({{ seconds_expression }})
{%- endmacro %}

{% macro spark__add_seconds(timestamp_expression, seconds_expression) -%}
    timestampadd(second, {{ seconds_expression }}, {{ timestamp_expression }})
{%- endmacro %}


{% macro parse_date(column) -%}
    {{ return(adapter.dispatch('parse_date', 'customer_segmentation')(column)) }}
{%- endmacro %}

{% macro default__parse_date(column) -%}
    coalesce(try_cast({{ column }} as date), cast({{ parse_timestamp(column) }} as date))
{%- endmacro %}

{#- Spark's cast to date also reads `1990`, `1990-05` and five-digit years: only an ISO-shaped value is cast, as on
    DuckDB (a bare year stays unreadable, an Excel serial goes to the repair). -#}
{% macro spark__parse_date(column) -%}
    coalesce(
        case when {{ regex_contains(column, iso_date_start_pattern()) }} then try_cast({{ column }} as date) end,
        cast({{ parse_timestamp(column) }} as date)
    )
{%- endmacro %}


{#- Amounts are exact decimals, never floating point, so sums are identical run to run. A plain number is one
    try_cast (a dot is the decimal point, as always); only a value it cannot read tries the repairs. -#}
{% macro parse_amount(column) -%}
    coalesce(
        try_cast({{ column }} as decimal(18, 2)),
        try_cast({{ repaired_amount_text(column) }} as decimal(18, 2))
    )
{%- endmacro %}


{#- The text of an amount that is not a plain number, rewritten as one (docs/bad-input.md):
    - a currency mark before or after it is dropped: đ, ₫, VND, VNĐ, đồng (any case, with or without a space);
    - dots grouping thousands, with an optional decimal comma: `1.250.000`, `1.250.000,50`, and with a currency
      mark `150.000đ` (the Vietnamese notation);
    - commas grouping thousands, with an optional decimal point: `1,250,000`, `1,250,000.50`, `1,250.50`;
    - a decimal comma with one or two decimals: `1,5đ`.
    A single comma before three digits (`1,250`) is 1250 in English and 1.25 in Vietnamese: left unreadable. -#}
{% macro repaired_amount_text(column) -%}
    {%- set unmarked = regex_replace_all(column, '^\\s*(₫|vnđ|vnd|đồng|đ)\\s*|\\s*(₫|vnđ|vnd|đồng|đ)\\s*$', '', true) -%}
    case
        when {{ regex_full_match(unmarked, '-?\\d{1,3}(\\.\\d{3})+(,\\d+)?') }}
            then replace(replace({{ unmarked }}, '.', ''), ',', '.')
        when {{ regex_full_match(unmarked, '-?\\d{1,3}(,\\d{3}){2,}(\\.\\d+)?|-?\\d{1,3}(,\\d{3})+\\.\\d+') }}
            then replace({{ unmarked }}, ',', '')
        when {{ regex_full_match(unmarked, '-?\\d+,\\d{1,2}') }}
            then replace({{ unmarked }}, ',', '.')
        when {{ regex_full_match(unmarked, '-?\\d+(\\.\\d+)?') }}
            then {{ unmarked }}
    end
{%- endmacro %}


{#- Which repair `parse_timestamp` / `parse_amount` applied to a value (null when none was needed or none
    worked): counted per table and column by audit.raw_repairs. -#}
{% macro timestamp_repair_kind(column) -%}
    case
        when {{ parse_iso_timestamp(column) }} is not null then null
        when {{ parse_day_first_timestamp(column) }} is not null then 'day_first_date'
        when {{ parse_excel_serial(column) }} is not null then 'excel_serial_date'
    end
{%- endmacro %}


{% macro amount_repair_kind(column) -%}
    case
        when try_cast({{ column }} as decimal(18, 2)) is not null then null
        when try_cast({{ repaired_amount_text(column) }} as decimal(18, 2)) is null then null
        when {{ regex_contains(column, '^\\s*(₫|vnđ|vnd|đồng|đ)|(₫|vnđ|vnd|đồng|đ)\\s*$', true) }}
            then 'currency_mark'
        else 'thousands_separator'
    end
{%- endmacro %}


{% macro parse_integer(column) -%}
    try_cast({{ column }} as integer)
{%- endmacro %}


{#- Lower-case, without diacritics (đ included) and without anything but letters and digits: the key that
    code mappings match on, so `Cửa hàng`, `cua hang` and `CUA-HANG` are one value. -#}
{% macro text_key(column) -%}
    {{ regex_replace_all(unaccent_lower(column), '[^a-z0-9]', '') }}
{%- endmacro %}


{#- Same rule as tools/build_province_seeds.py: also drops a leading "tỉnh", "thành phố" or "TP." -#}
{% macro province_key(column) -%}
    {{ regex_replace_all(
        regex_replace_all(unaccent_lower('trim(' ~ column ~ ')'), '^(tinh\\s+|thanh pho\\s+|tp[\\s.]*|t\\.p[\\s.]*)', ''),
        '[^a-z0-9]', '') }}
{%- endmacro %}


{#- Where an address splits into parts, for finding the province written inside one: a comma or a semicolon, or a
    dash with a space on at least one side (`Quận 1 - TP.HCM`); `BR-VT` and `TT-Huế` stay whole. -#}
{% macro address_part_separator_pattern() -%}
    {{ return('[,;]|\\s+[-–—]\\s*|\\s*[-–—]\\s+') }}
{%- endmacro %}

{#- A select of one row per value of `spellings` (a relation with one row per distinct, non-null value in its column
    `spelling`) with the province key it matches in `aliases` (the seed vn_province_aliases): the key of the whole
    value when that is an alias, as always; else the key of the last part of the value that is one
    (`123 Lê Lợi, Quận 1, TP.HCM` -> `hcm`, `Q.1, TP Hồ Chí Minh` -> `hochiminh`); else the key of the whole value,
    which matches no province. Run once per distinct spelling, not per row. -#}
{% macro matched_province_keys(spellings, aliases) -%}
    select
        spelling_keys.spelling,
        coalesce(whole_matches.province_key, part_matches.province_key, spelling_keys.whole_key) as province_key
    from (
        select
            spelling,
            {{ province_key('spelling') }} as whole_key
        from {{ spellings }}
    ) as spelling_keys
    left join (select distinct province_key from {{ aliases }}) as whole_matches
        on spelling_keys.whole_key = whole_matches.province_key
    left join (
        select
            parts.spelling,
            max_by(parts.part_key, parts.part_position) as province_key
        from (
            select
                spelling,
                {{ province_key('part') }} as part_key,
                part_position
            from (
                select
                    spelling,
                    {{ split_to_rows('spelling', address_part_separator_pattern()) }}
                from {{ spellings }}
            ) as split_spellings
        ) as parts
        where parts.part_key in (select part_aliases.province_key from {{ aliases }} as part_aliases)
        group by parts.spelling
    ) as part_matches
        on spelling_keys.spelling = part_matches.spelling
{%- endmacro %}


{#- Vietnamese phone numbers (numbering plan in force since 2018), read from the digits of the value (spaces, dots,
    dashes, brackets and `+` dropped; an extension at the end, `ext 12`, `ext. 12`, `ext: 12`, `x12`, `#12` or
    `máy lẻ 12`, dropped first), with or without the country code 84 (also dialled as `0084`, and `0084 (0)`), and
    with or without the leading zero:
    - a mobile, 0 then 3, 5, 7, 8 or 9 and 8 digits (`0912 345 678`, `+84 912 345 678`, `(+84) 0912345678`), also
      nine digits without the zero that a spreadsheet drops (`912345678`);
    - a landline, 02 then 9 digits: the area code 2x or 2xx and the subscriber number (`(028) 3822 1234`,
      `0236 3822 123`, `+84 28 3822 1234`), also without the zero.
    - an 11-digit mobile of the plan before the 2018-2019 renumbering (`0168 123 4567`, `+84 168 123 4567`), as the
      10-digit number it became (vn_renumbered_mobile_prefix), so that an old export and a new one meet.
    Each becomes E.164, `+84` and the number without its zero; anything else is null (8 digits, an 11-digit number
    outside the renumbered prefixes, an old area code like `04 3825 1234`). An old-plan landline whose area code now
    starts a mobile prefix (`08 3822 1234`, Hồ Chí Minh City before 2017) cannot be told from a mobile and reads as
    one. -#}
{% macro vn_mobile_pattern() -%}
    {{ return('(0084|00840|84|0|840)?[35789][0-9]{8}') }}
{%- endmacro %}

{% macro vn_landline_pattern() -%}
    {{ return('(0084|00840|84|0|840)?2[0-9]{9}') }}
{%- endmacro %}

{#- the 11-digit mobiles of the old plan: 01 and a renumbered prefix (12x, 162-169, 186, 188, 199), then 7 digits -#}
{% macro vn_old_mobile_pattern() -%}
    {{ return('(0084|00840|84|0|840)?1(2[0-9]|6[2-9]|8[68]|99)[0-9]{7}') }}
{%- endmacro %}

{#- The 2018-2019 renumbering of mobiles (Ministry of Information and Communications): the old three digits after the
    zero (e.g. `162` of 0162) -> the new two (`32` of 032). The digits of a value matching vn_old_mobile_pattern. -#}
{% macro vn_renumbered_mobile_prefix(digits) -%}
    {%- set renumbered = {
        '162': '32', '163': '33', '164': '34', '165': '35', '166': '36', '167': '37', '168': '38', '169': '39',
        '120': '70', '121': '79', '122': '77', '126': '76', '128': '78',
        '123': '83', '124': '84', '125': '85', '127': '81', '129': '82',
        '186': '56', '188': '58', '199': '59'} -%}
    case left(right({{ digits }}, 10), 3)
        {%- for old, new in renumbered | dictsort %}
        when '{{ old }}' then '{{ new }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- the digits of a phone value, an extension at its end left out -#}
{% macro vn_phone_digits(column) -%}
    {{ regex_replace_all(
        regex_replace_all(column, '[ ]*(ext[.:]?|x|#|máy lẻ)[ ]*[0-9]{1,6}[ ]*$', '', case_insensitive=true), '[^0-9]', '') }}
{%- endmacro %}

{% macro normalize_vn_phone(column) -%}
    {%- set digits = vn_phone_digits(column) -%}
    case
        when {{ regex_full_match(digits, vn_mobile_pattern()) }} then '+84' || right({{ digits }}, 9)
        when {{ regex_full_match(digits, vn_landline_pattern()) }} then '+84' || right({{ digits }}, 10)
        when {{ regex_full_match(digits, vn_old_mobile_pattern()) }}
            then '+84' || {{ vn_renumbered_mobile_prefix(digits) }} || right({{ digits }}, 7)
    end
{%- endmacro %}

{#- mobile or landline, for a value normalize_vn_phone reads; null otherwise -#}
{% macro vn_phone_kind(column) -%}
    {%- set digits = vn_phone_digits(column) -%}
    case
        when {{ regex_full_match(digits, vn_mobile_pattern()) }} then 'mobile'
        when {{ regex_full_match(digits, vn_landline_pattern()) }} then 'landline'
        when {{ regex_full_match(digits, vn_old_mobile_pattern()) }} then 'mobile'
    end
{%- endmacro %}


{#- An email address, lower-cased: something, `@`, something, a dot and something; anything else is null. -#}
{% macro clean_email(column) -%}
    case when {{ column }} like '%_@_%._%' then lower({{ column }}) end
{%- endmacro %}


{#- The first failed check of a list of {when, reason, column}: `field` picks what to return: the reason
    code, the column name, or the raw value (field='value' returns the column's raw text). -#}
{% macro first_failed_check(checks, field) -%}
    case
        {%- for check in checks %}
        when {{ check.when }} then {% if field == 'value' %}{{ check.value if check.value is defined else 'null' }}{% else %}'{{ check[field] }}'{% endif %}
        {%- endfor %}
    end
{%- endmacro %}


{#- The day of the build in `source_timezone`: rows dated after it are rejected as date_in_future. -#}
{% macro build_date() -%}
    cast('{{ run_started_at.astimezone(modules.pytz.timezone(var("source_timezone"))).strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}


{#- Window columns that find duplicates among rows with the same row-check outcome:
    copy_number (1 for the first of identical rows), rows_with_key (rows sharing the key) and identical_rows
    (rows identical to this one). A key whose rows are not all identical (rows_with_key > identical_rows) is
    ambiguous. -#}
{% macro duplicate_flags(raw_columns, key_expression) -%}
    row_number() over (
        partition by row_rejection_reason, {{ raw_columns | join(', ') }}
        order by source_row_number
    ) as copy_number,
    count(*) over (partition by row_rejection_reason, {{ key_expression }}) as rows_with_key,
    count(*) over (partition by row_rejection_reason, {{ raw_columns | join(', ') }}) as identical_rows
{%- endmacro %}


{#- The body of a CTE of the raw rows whose key is shared by another row (`rows` filtered by `where` when given): the
    base models' `repeated_source`, the few rows that need the duplicate windows. `key_hash` is a 64-bit hash of the
    trimmed raw key (hash64): grouped by it, not by text, on millions of rows; the set may hold keys that do not
    repeat after the row checks (or, rarely, one whose hash collides with a repeated one), and the windows are exact
    for them too. -#}
{% macro rows_of_repeated_keys(rows, key_hash, where=none) -%}
    select *
    from {{ rows }}
    where
        {% if where %}{{ where }}
        and {% endif %}{{ key_hash }} in (
            select {{ key_hash }}
            from {{ rows }}
            {%- if where %}
            where {{ where }}
            {%- endif %}
            group by {{ key_hash }}
            having count(*) > 1
        )
{%- endmacro %}


{#- The body of a CTE that gives every checked row its duplicate flags: `rows` (every checked row) joined by position
    (source_file, source_row_number) to `flags` (copy_number, rows_with_key and identical_rows of the few rows of
    repeated keys, e.g. from duplicate_flags: the base models' `repeated_flags`); a row without flags has a key no
    other row shares: 1, 1, 1. -#}
{% macro rows_with_duplicate_flags(rows, flags='repeated_flags') -%}
    select
        {{ rows }}.*,
        coalesce({{ flags }}.copy_number, 1) as copy_number,
        coalesce({{ flags }}.rows_with_key, 1) as rows_with_key,
        coalesce({{ flags }}.identical_rows, 1) as identical_rows
    from {{ rows }}
    left join {{ flags }}
        on
            {{ rows }}.source_file = {{ flags }}.source_file
            and {{ rows }}.source_row_number = {{ flags }}.source_row_number
{%- endmacro %}


{#- `materialized` for a CTE that several later CTEs read, so that the engine computes it once (DuckDB otherwise
    inlines it into each reader, repeating the parsing; a materialized CTE spills to disk past memory_limit).
    Engines without the keyword get nothing. -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'customer_segmentation')()) }}
{%- endmacro %}

{#- A CTE that must be read where it is used, not kept: DuckDB materializes a CTE that several parts of a query read
    (a buffer of every column of every row), which for the raw rows of a base model means a full-width copy of the
    export: at 100M typed orders and a 16GB memory limit, base_shop__orders spilled over 46 GB that way; inlined,
    the raw rows stream (at 10M orders and a 1.6GB limit: 5.8 GB of spill to none, 31 s to 23 s; with the default
    memory 18.5 s to 16.2 s; a CSV source is still read once). The same holds for a model's import CTE of a wide
    table that two parts of the query filter differently (the staging and rejected-row models: each reader scans
    only the columns and rows it needs). Other engines inline CTEs anyway. -#}
{% macro cte_inlined() -%}
    {{ return(adapter.dispatch('cte_inlined', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro default__cte_inlined() -%}
{%- endmacro %}

{% macro duckdb__cte_inlined() -%}
    not materialized
{%- endmacro %}


{% macro default__cte_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_materialized() -%}
    {%- if var('materialize_checked_rows') | string | lower not in ('false', '0', 'no') %}materialized{% endif -%}
{%- endmacro %}


{#- A raw column's value: from its typed column when the source has one (raw_typed_types in macros/raw_input.sql),
    else parsed from its text. `parser` is timestamp, date, amount or integer; `parsed` the parsing expression of its
    text, which runs only on the rows whose typed value is null (coalesce evaluates its second argument for those
    rows only): a typed source pays no parsing. -#}
{% macro typed_or_parsed(typed_columns, column, parser, parsed, prefix='') -%}
    {%- if column in typed_columns -%}
        {%- set typed = prefix ~ column ~ '__typed' -%}
        {%- set target_type = {'timestamp': 'timestamp', 'date': 'date', 'amount': 'decimal(18, 2)',
                               'integer': 'integer'}[parser] -%}
        coalesce(try_cast({{ typed }} as {{ target_type }}), {{ parsed }})
    {%- else -%}
        {{ parsed }}
    {%- endif -%}
{%- endmacro %}


{#- The typed raw columns a base model carries from its source to the step that reads them (`, <column>__typed`
    for each; nothing for a text source). -#}
{% macro typed_raw_columns(typed_columns, prefix='') -%}
    {%- for column in typed_columns %},
        {{ prefix ~ column ~ '__typed' }}
    {%- endfor -%}
{%- endmacro %}

{#- How a base model keeps the raw rows it reads several times (the rows to check, the code spellings, the repeated
    ids), which the models then join back by position (source_file, source_row_number):
    - Parquet files with at least one row group per DuckDB thread are read where they lie, once per reader, each
      reader scanning only its columns (inlined: no full-width copy in memory, every thread busy; a row's position
      is its place in its file, the same on every read);
    - a CSV file or a database table is always read once and kept (materialized): its positions are numbered by the
      scan itself, which another read need not repeat in the same order, and re-reading CSV parses every line again;
    - Parquet with fewer row groups than threads (DuckDB reads a row group on one thread: streamed, the whole model
      would run on one core; such files are small) and the rows an incremental run re-checks (`filtered`: a small
      share of the source, and the filter that picks them costs more per read than the copy) are kept as
      cte_materialized() keeps a CTE (the var materialize_checked_rows).
    `resolved`: resolve_raw_table's result, or none while dbt parses and in a unit test (kept as cte_materialized). -#}
{% macro raw_rows_cte(resolved, filtered=false) -%}
    {%- if resolved is none -%}
        {{ return(cte_materialized()) }}
    {%- endif -%}
    {%- if resolved.found and resolved.fmt == 'parquet' -%}
        {{ return(cte_materialized() if filtered or not raw_parquet_streams(resolved.paths) else cte_inlined()) }}
    {%- endif -%}
    {{ return(adapter.dispatch('cte_kept', 'customer_segmentation')()) }}
{%- endmacro %}

{#- How a base model reads its raw table, from one look at the source: {typed_columns: raw_typed_columns, cte: the
    keyword raw_rows_cte gives the CTE of its raw rows}; `filtered`: an incremental run's re-checked rows (raw_rows_cte). -#}
{% macro raw_rows_read(table_name, filtered=false) -%}
    {%- set resolved = resolve_raw_table(table_name) if raw_tables_readable() else none -%}
    {{ return({'typed_columns': raw_typed_columns(table_name, resolved), 'cte': raw_rows_cte(resolved, filtered)}) }}
{%- endmacro %}

{#- `materialized` whatever the var says (a CTE that must be read once); nothing on engines without the keyword. -#}
{% macro default__cte_kept() -%}
{%- endmacro %}

{% macro duckdb__cte_kept() -%}
    materialized
{%- endmacro %}

{#- True when Parquet files hold at least one row group per thread of the engine (read from the files' footers). -#}
{% macro raw_parquet_streams(paths) %}
    {{ return(adapter.dispatch('raw_parquet_streams', 'customer_segmentation')(paths)) }}
{% endmacro %}

{% macro default__raw_parquet_streams(paths) %}
    {{ return(true) }}
{% endmacro %}

{% macro duckdb__raw_parquet_streams(paths) %}
    {% set counted = run_query(
        "select count(*) >= cast(current_setting('threads') as bigint) from (select distinct file_name, row_group_id "
        ~ "from parquet_metadata(" ~ duckdb_path_list(paths) ~ "))") %}
    {{ return(counted.columns[0].values()[0]) }}
{% endmacro %}


{#- A row's verdict after the row checks (`checks`, in order: the first that fails names the reason, the column and
    the raw value): the columns row_rejection_reason, rejected_column and rejected_value of a base model's
    `row_checked` step. -#}
{% macro row_check_columns(checks) -%}
    {{ first_failed_check(checks, 'reason') }} as row_rejection_reason,
    {{ first_failed_check(checks, 'column') }} as rejected_column,
    {{ first_failed_check(checks, 'value') }} as rejected_value
{%- endmacro %}


{#- A row's final verdict in a base model: the row checks' reason first, then the duplicate flags of
    rows_with_duplicate_flags (a copy after the first of identical rows is duplicate_row; a key whose rows are not all
    identical is conflicting_duplicate), named by the SQL expression `key_column` with the raw `key_value`. `rows`:
    the alias of the flagged rows with its dot (e.g. 'events.'), or '' when unambiguous. -#}
{% macro rejection_columns(key_column, key_value, rows='') -%}
    case
        when {{ rows }}row_rejection_reason is not null then {{ rows }}row_rejection_reason
        when {{ rows }}copy_number > 1 then 'duplicate_row'
        when {{ rows }}rows_with_key > {{ rows }}identical_rows then 'conflicting_duplicate'
    end as rejection_reason,
    case
        when {{ rows }}row_rejection_reason is not null then {{ rows }}rejected_column
        when {{ rows }}copy_number > 1 or {{ rows }}rows_with_key > {{ rows }}identical_rows then {{ key_column }}
    end as rejected_column,
    case
        when {{ rows }}row_rejection_reason is not null then {{ rows }}rejected_value
        when {{ rows }}copy_number > 1 or {{ rows }}rows_with_key > {{ rows }}identical_rows then {{ key_value }}
    end as rejected_value
{%- endmacro %}
