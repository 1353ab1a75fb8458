{#- on-run-start: vars that only make sense together or within a range, checked before any model runs. Every problem
    is listed, one line each, and the build stops once: a user fixing their settings sees all of them at once.
    A YAML true/false is not a number here (Python counts it as 1/0). -#}
{% macro check_vars() %}
    {% set problems = [] %}
    {% set high = var('predicted_tier_high_top_share') %}
    {% set medium = var('predicted_tier_medium_top_share') %}
    {% if not (_is_plain_number(high) and _is_plain_number(medium) and 0 <= high <= medium <= 1) %}
        {% do problems.append(
            'predicted_tier_high_top_share (' ~ high ~ ') and predicted_tier_medium_top_share (' ~ medium
            ~ ') must be shares with 0 <= high <= medium <= 1: the top `high` share is high, down to the top'
            ~ ' `medium` share medium') %}
    {% endif %}
    {#- the lead score: a positive half-life, and grade cut points from A down to C within 0-100 -#}
    {% set half_life = var('lead_score_half_life_days') %}
    {% if not (_is_plain_number(half_life) and half_life > 0) %}
        {% do problems.append(
            'lead_score_half_life_days (' ~ half_life ~ ') must be a number of days above 0: an event that old'
            ~ ' counts half its points') %}
    {% endif %}
    {% set cut_a, cut_b, cut_c = var('lead_grade_a_min_score'), var('lead_grade_b_min_score'),
        var('lead_grade_c_min_score') %}
    {% if not (_is_plain_number(cut_a) and _is_plain_number(cut_b) and _is_plain_number(cut_c)
        and 0 <= cut_c <= cut_b <= cut_a <= 100) %}
        {% do problems.append(
            'lead_grade_a_min_score (' ~ cut_a ~ '), lead_grade_b_min_score (' ~ cut_b ~ ') and lead_grade_c_min_score ('
            ~ cut_c ~ ') must be scores with 0 <= c <= b <= a <= 100: a lead_score at or above a cut point takes'
            ~ ' its grade') %}
    {% endif %}
    {#- identity resolution (docs/identity.md): a key must be able to link two ids; at least one pass -#}
    {% set cap, passes = var('identity_max_ids_per_key'), var('identity_label_passes') %}
    {% if not (_is_whole_number(cap) and cap >= 2) %}
        {% do problems.append(
            'identity_max_ids_per_key (' ~ cap ~ ') must be a whole number of at least 2: a phone or email held by'
            ~ ' more customer ids than this links none of them') %}
    {% endif %}
    {% if not (_is_whole_number(passes) and passes >= 1) %}
        {% do problems.append(
            'identity_label_passes (' ~ passes ~ ') must be a whole number of at least 1: the longest chain of linked'
            ~ ' customer ids resolved') %}
    {% endif %}
    {#- control groups and their lift (docs/care-lift.md) -#}
    {% set share = var('control_group_share') %}
    {% if not (_is_plain_number(share) and 0 <= share < 1) %}
        {% do problems.append(
            'control_group_share (' ~ share ~ ') must be a share with 0 <= share < 1: the part of each care action\'s'
            ~ ' customers held back to measure its lift (0 holds back nobody)') %}
    {% endif %}
    {#- the windows in days: care_lift's, and that of p_purchase_next_30d -#}
    {% for name, purpose in [('lift_window_days', ''),
                             ('next_purchase_window_days', ': the window of p_purchase_next_30d')] %}
        {% set days = var(name) %}
        {% if not (_is_whole_number(days) and days >= 1) %}
            {% do problems.append(name ~ ' (' ~ days ~ ') must be a whole number of days of at least 1' ~ purpose) %}
        {% endif %}
    {% endfor %}
    {% set salt = var('control_group_salt') %}
    {% if not (salt is string and salt | trim | length > 0) %}
        {% do problems.append(
            'control_group_salt (' ~ salt ~ ') must be a non-empty text: it keys the draw of every control group') %}
    {% endif %}
    {% if problems %}
        {{ exceptions.raise_compiler_error(
            'invalid vars (' ~ problems | length ~ (' problem' if problems | length == 1 else ' problems') ~ '):\n  - '
            ~ problems | join('\n  - ')) }}
    {% endif %}
    {% do segment_by_person() %}
    {{ return('') }}
{% endmacro %}

{#- a number and not a YAML true/false -#}
{% macro _is_plain_number(value) %}
    {{ return(value is number and value is not boolean) }}
{% endmacro %}

{% macro _is_whole_number(value) %}
    {{ return(_is_plain_number(value) and value == value | int) }}
{% endmacro %}
