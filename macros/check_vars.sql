{#- on-run-start: vars that only make sense together, checked before any model runs. -#}
{% macro check_vars() %}
    {% set high = var('predicted_tier_high_top_share') %}
    {% set medium = var('predicted_tier_medium_top_share') %}
    {% if not (high is number and medium is number and 0 <= high <= medium <= 1) %}
        {{ exceptions.raise_compiler_error(
            'predicted_tier_high_top_share (' ~ high ~ ') and predicted_tier_medium_top_share (' ~ medium
            ~ ') must be shares with 0 <= high <= medium <= 1: the top `high` share is high, down to the top'
            ~ ' `medium` share medium') }}
    {% endif %}
    {#- the lead score: a positive half-life, and grade cut points from A down to C within 0-100 -#}
    {% set half_life = var('lead_score_half_life_days') %}
    {% if not (half_life is number and half_life > 0) %}
        {{ exceptions.raise_compiler_error(
            'lead_score_half_life_days (' ~ half_life ~ ') must be a number of days above 0: an event that old'
            ~ ' counts half its points') }}
    {% endif %}
    {% set cut_a, cut_b, cut_c = var('lead_grade_a_min_score'), var('lead_grade_b_min_score'),
        var('lead_grade_c_min_score') %}
    {% if not (cut_a is number and cut_b is number and cut_c is number and 0 <= cut_c <= cut_b <= cut_a <= 100) %}
        {{ exceptions.raise_compiler_error(
            'lead_grade_a_min_score (' ~ cut_a ~ '), lead_grade_b_min_score (' ~ cut_b ~ ') and lead_grade_c_min_score ('
            ~ cut_c ~ ') must be scores with 0 <= c <= b <= a <= 100: a lead_score at or above a cut point takes'
            ~ ' its grade') }}
    {% endif %}
    {#- identity resolution (docs/identity.md): a key must be able to link two ids; at least one pass -#}
    {% set cap, passes = var('identity_max_ids_per_key'), var('identity_label_passes') %}
    {% if not (cap is number and cap == cap | int and cap >= 2) %}
        {{ exceptions.raise_compiler_error(
            'identity_max_ids_per_key (' ~ cap ~ ') must be a whole number of at least 2: a phone or email held by'
            ~ ' more customer ids than this links none of them') }}
    {% endif %}
    {% if not (passes is number and passes == passes | int and passes >= 1) %}
        {{ exceptions.raise_compiler_error(
            'identity_label_passes (' ~ passes ~ ') must be a whole number of at least 1: the longest chain of linked'
            ~ ' customer ids resolved') }}
    {% endif %}
    {% do segment_by_person() %}
    {% set share, window = var('control_group_share'), var('lift_window_days') %}
    {% if not (share is number and 0 <= share < 1) %}
        {{ exceptions.raise_compiler_error(
            'control_group_share (' ~ share ~ ') must be a share with 0 <= share < 1: the part of each care action\'s'
            ~ ' customers held back to measure its lift') }}
    {% endif %}
    {% if not (window is number and window == window | int and window >= 1) %}
        {{ exceptions.raise_compiler_error(
            'lift_window_days (' ~ window ~ ') must be a whole number of days of at least 1') }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
