"""What runs in production: the publish step that `make build`, `make backfill` and the Dagster jobs go through
(publish, publish_paths), the raw pre-flight (preflight and its preflight_* parts, against the input contract read by
raw_contract), the exports and the BI file (export_marts, export_columns, export_runs), the history backfill
(backfill) and the settings file every entry point reads (settings). The tools around it (benchmark, generator,
report, backtest) are in tools/; the CLV maths in clv/."""
