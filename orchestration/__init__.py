"""Dagster orchestration of the dbt project (optional extra: `pip install -r requirements-orchestration.txt`).

The dbt models are Dagster assets and their data tests asset checks (`orchestration.definitions`); a daily schedule
builds the warehouse at the previous day's as-of date, a daily-partitioned asset records past as-of dates in the
segment history (a Dagster backfill over a date range), and `python -m orchestration` runs the same jobs from
plain cron. See docs/orchestration.md.
"""
