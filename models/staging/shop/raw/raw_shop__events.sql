-- The raw events as the source holds them (contract: _shop__raw.yml; reader: macros/raw_input.sql).
{{ raw_input('events') }}
