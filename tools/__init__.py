"""Tools around the pipeline, not needed to build it: the benchmark (bench and its bench_* parts, bench_peers,
bench_clv, bench_limit.sql), the data generator (generate_data and its generate_* parts), the HTML report (report,
report_charts), the predicted-value backtest (backtest, backtest_render), the CDNOW and province-seed fetchers, and
the helpers they share (charts: SVG; machine: the machine a benchmark ran on). `python -m tools.<name> --help`."""
