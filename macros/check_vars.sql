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
    {{ return('') }}
{% endmacro %}
