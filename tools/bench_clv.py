"""Benchmark of the CLV models: fit and scoring time and peak memory on simulated retail customers.

Usage::

    python -m tools.bench_clv --customers 100000 1000000 [--seed 42] [--repeat 3] [--blas-threads default 1]
        [--doc docs/benchmarks.md | --no-doc]

For each number of customers, a fresh Python process (so that its peak memory is that scale's alone) simulates the
BG/NBD purchase process and Gamma-Gamma spends (`clv.simulate`) with retail-like parameters on a daily grid: first
purchases spread over ~4.5 years, T and t_x on whole days, then divided by 7 as `int_customers__purchase_summary`
does, so that summaries repeat like real data. It then times `fit_bg_nbd`, `fit_gamma_gamma` and `predict` (wall time,
time.perf_counter, and CPU time of the process, which shows whether more than one core worked), `--repeat` times,
keeping the fastest wall time of each step (the machine may be shared: the load average before each run is recorded
too), and reads the process's peak RSS after each step (resource.getrusage; a high-water mark, so it never goes
down). The table is printed and written between the `bench-clv` markers of docs/benchmarks.md; the rest
of that file is kept as it is.

`--blas-threads 1` runs a scale again with OPENBLAS_NUM_THREADS=1 (and the other usual thread variables), to show
how much of the time goes to BLAS threads; `default` leaves the environment alone, as a dbt build does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tools.machine import basics

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
START_MARKER = "<!-- bench-clv:start -->"
END_MARKER = "<!-- bench-clv:end -->"
DOC_INTRO = """# Benchmarks

Measured figures of the project's heavy parts, each section written by the script that measures it (rerun the
script to refresh its section; the text between a section's markers is replaced, the rest of this file is kept).
"""

DAYS_PER_WEEK = 7.0
OBSERVATION_DAYS = 1643  # ~4.5 years
# Retail-like parameters. BG/NBD in weeks: mean purchase rate r/alpha = 0.05 a week (~2.6 a year), mean drop-out
# probability after a repeat purchase a/(a+b) = 0.17. Gamma-Gamma in VND: mean order p*gamma/(q-1) = 350,000.
TRUE_BG_NBD = {"r": 0.6, "alpha": 12.0, "a": 0.7, "b": 3.5}
TRUE_GAMMA_GAMMA = {"p": 4.0, "q": 3.0, "gamma": 175_000.0}
MONTHLY_DISCOUNT_RATE = 0.01
TARGET_SECONDS = 30
TARGET_CUSTOMERS = 1_000_000
# Recovered parameters are "close" to the simulated ones when the simulated values lie inside the fit's likelihood-
# ratio confidence region at this level: 2 (LL(fitted) - LL(simulated)) below the chi-square quantile with one degree
# of freedom per parameter. This scales with the sample, unlike a fixed relative distance (also reported).
CONFIDENCE = 0.999
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(step, repeat: int):
    """The step's result, its fastest wall time over `repeat` runs and the CPU time of that run."""
    best = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu_seconds()
        result = step()
        wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
        if best is None or wall < best[1]:
            best = (result, wall, cpu)
    return best


def run_worker(n_customers: int, seed: int, repeat: int = 1) -> dict:
    """Simulate, fit and score n_customers in this process; the figures as a dict."""
    import numpy as np

    from clv import bg_nbd, gamma_gamma
    from clv.fit import fit_bg_nbd, fit_gamma_gamma
    from clv.predict import predict
    from clv.simulate import simulate

    figures: dict = {"customers": n_customers, "seed": seed, "repeat": repeat, "load_average": os.getloadavg()[0]}
    start = time.perf_counter()
    observation_days = np.random.default_rng(seed + 1).integers(0, OBSERVATION_DAYS + 1, n_customers)
    bg_in_days = dict(TRUE_BG_NBD, alpha=TRUE_BG_NBD["alpha"] * DAYS_PER_WEEK)
    customers = simulate(n_customers, **bg_in_days, **TRUE_GAMMA_GAMMA, T=observation_days, seed=seed, resolution=1.0)
    x = customers.x
    t_x = customers.t_x / DAYS_PER_WEEK
    T = customers.T / DAYS_PER_WEEK
    m = customers.m
    figures["simulate_s"] = time.perf_counter() - start
    figures["repeat_buyers"] = int(np.count_nonzero(x > 0))
    figures["distinct_bg_nbd_rows"] = int(np.unique(np.column_stack([x, t_x, T]), axis=0).shape[0])
    figures["distinct_x_T_pairs"] = int(np.unique(np.column_stack([x, T]), axis=0).shape[0])
    figures["rss_after_simulate_mib"] = _peak_rss_mib()

    steps = {
        "fit_bg_nbd": lambda: fit_bg_nbd(x, t_x, T),
        "fit_gamma_gamma": lambda: fit_gamma_gamma(x, m),
    }
    results = {}
    for name, step in steps.items():
        results[name], figures[f"{name}_s"], figures[f"{name}_cpu_s"] = _timed(step, repeat)
        figures[f"{name}_rss_mib"] = _peak_rss_mib()
        fit = results[name]
        figures[f"{name}_status"] = fit.status
        figures[f"{name}_parameters"] = dict(zip(fit.parameter_names, fit.parameters)) if fit.converged else None
    bg_params, gg_params = results["fit_bg_nbd"].parameters, results["fit_gamma_gamma"].parameters
    if bg_params is not None:
        at_truth = bg_nbd.log_likelihood(tuple(TRUE_BG_NBD.values()), x, t_x, T).sum()
        figures["fit_bg_nbd_ll_gain"] = results["fit_bg_nbd"].log_likelihood - float(at_truth)
    if gg_params is not None:
        usable = (x > 0) & (m > 0)
        at_truth = gamma_gamma.log_likelihood(tuple(TRUE_GAMMA_GAMMA.values()), x[usable], m[usable]).sum()
        figures["fit_gamma_gamma_ll_gain"] = results["fit_gamma_gamma"].log_likelihood - float(at_truth)
    predictions, figures["predict_s"], figures["predict_cpu_s"] = _timed(
        lambda: predict(bg_params, gg_params, x, t_x, T, m, MONTHLY_DISCOUNT_RATE), repeat
    )
    figures["predict_rss_mib"] = _peak_rss_mib()
    figures["predictions_not_finite"] = int(sum(np.count_nonzero(~np.isfinite(v)) for v in predictions.values()))
    figures["total_s"] = figures["fit_bg_nbd_s"] + figures["fit_gamma_gamma_s"] + figures["predict_s"]
    figures["total_cpu_s"] = figures["fit_bg_nbd_cpu_s"] + figures["fit_gamma_gamma_cpu_s"] + figures["predict_cpu_s"]
    figures["breakdown"] = _breakdown(steps, lambda: predict(bg_params, gg_params, x, t_x, T, m, MONTHLY_DISCOUNT_RATE))
    return figures


# Functions of the clv package timed inside each step by the breakdown run: (step, module, attribute, label). The
# modules call them through their module attribute, so replacing the attribute for one run times every call.
BREAKDOWN_PARTS = (
    ("fit_bg_nbd", "clv.fit", "_unique_with_weights", "grouping identical customers (clv.arrays.unique_rows)"),
    ("fit_bg_nbd", "clv.bg_nbd", "log_likelihood_gradient", "log-likelihood and gradient evaluations"),
    ("fit_gamma_gamma", "clv.fit", "_unique_with_weights", "grouping identical customers (clv.arrays.unique_rows)"),
    ("fit_gamma_gamma", "clv.gamma_gamma", "log_likelihood_gradient", "log-likelihood and gradient evaluations"),
    ("predict", "clv.bg_nbd", "conditional_expected_purchases_by_horizon",
     "expected purchases at 14 horizons (distinct (x, T) pairs, P(alive), hyp2f1)"),
    ("predict", "clv.bg_nbd", "_purchases_if_alive", "of which hyp2f1 on the distinct (x, T) pairs"),
)


def _breakdown(steps: dict, predict_step) -> list[dict]:
    """One more run of each step with the parts of BREAKDOWN_PARTS timed: where the time goes."""
    import importlib

    rows = []
    for step_name, step in {**steps, "predict": predict_step}.items():
        parts = [part for part in BREAKDOWN_PARTS if part[0] == step_name]
        timings = {label: [0.0, 0] for *_, label in parts}
        originals = []
        for _, module_name, attribute, label in parts:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            originals.append((module, attribute, original))

            def timed(*args, _original=original, _timing=timings[label], **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    _timing[0] += time.perf_counter() - start
                    _timing[1] += 1

            setattr(module, attribute, timed)
        try:
            start = time.perf_counter()
            step()
            total = time.perf_counter() - start
        finally:
            for module, attribute, original in originals:
                setattr(module, attribute, original)
        rows.append({"step": step_name, "part": "whole step", "seconds": total, "calls": 1})
        rows += [{"step": step_name, "part": label, "seconds": seconds, "calls": calls}
                 for label, (seconds, calls) in timings.items()]
    return rows


def _run_in_child(n_customers: int, seed: int, repeat: int, blas_threads: str) -> dict:
    env = dict(os.environ)
    if blas_threads != "default":
        env.update({variable: blas_threads for variable in BLAS_THREAD_VARIABLES})
    completed = subprocess.run(
        [sys.executable, "-m", "tools.bench_clv", "--worker", "--customers", str(n_customers), "--seed", str(seed),
         "--repeat", str(repeat)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark worker for {n_customers} customers failed:\n{completed.stderr}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["blas_threads"] = blas_threads
    return figures


def _machine() -> dict:
    import numpy as np
    import scipy

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        **basics(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": _blas_name(np),
        "blas_env": {v: os.environ[v] for v in BLAS_THREAD_VARIABLES if v in os.environ},
    }


def _blas_name(np) -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - the BLAS name is informative only
        return "unknown"


def _recovery(figures: dict) -> tuple[str, str]:
    """'close' / 'not close' / 'no fit', and the evidence: for each model the log-likelihood gain of the fit over the
    simulated parameters against its limit, and the largest relative distance of a parameter."""
    from scipy.stats import chi2

    verdicts, evidence = [], []
    for model, truth in (("fit_bg_nbd", TRUE_BG_NBD), ("fit_gamma_gamma", TRUE_GAMMA_GAMMA)):
        fitted = figures[f"{model}_parameters"]
        if fitted is None:
            return "no fit", f"{model} did not converge"
        limit = chi2.ppf(CONFIDENCE, len(truth)) / 2
        gain = figures[f"{model}_ll_gain"]
        distance = max(abs(fitted[name] / value - 1) for name, value in truth.items())
        verdicts.append(0 <= gain <= limit)
        evidence.append(f"{model.removeprefix('fit_')}: LL gain {gain:.2f} (limit {limit:.2f}), largest relative "
                        f"distance {distance:.1%}")
    return ("close" if all(verdicts) else "not close"), "; ".join(evidence)


def _format_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _format_parameters(parameters: dict | None) -> str:
    if parameters is None:
        return "-"
    return ", ".join(f"{name} = {_format_number(value)}" for name, value in parameters.items())


def _verdict(run: dict) -> str:
    if run["customers"] != TARGET_CUSTOMERS:
        return "-"
    return "yes" if run["total_s"] < TARGET_SECONDS else "**no**"


def render_section(machine: dict, runs: list[dict]) -> str:
    memory = f"{machine['memory_gib']:.1f} GiB" if machine["memory_gib"] else "unknown"
    blas_env = ", ".join(f"{k}={v}" for k, v in machine["blas_env"].items()) or "none set"
    data = (
        "- Data: customers simulated with `clv.simulate` from BG/NBD r = {r}, alpha = {alpha} weeks, a = {a}, "
        "b = {b} and Gamma-Gamma p = {p}, q = {q}, gamma = {gamma:,.0f} VND; first purchases spread over "
        "{days} days (~4.5 years); T and t_x on whole days, then in weeks (days / 7). Each scale runs in its own "
        "process; the times exclude the simulation."
    ).format(**TRUE_BG_NBD, **TRUE_GAMMA_GAMMA, days=OBSERVATION_DAYS)
    lines = [
        START_MARKER,
        "## CLV models: fit and scoring (`make bench-clv`)",
        "",
        "Written by `python -m tools.bench_clv` (`make bench-clv`); rerun it to refresh this section.",
        "",
        f"- Date: {machine['date']}",
        (f"- Machine: {machine['cores']} cores (os.cpu_count()), {machine['cpu_model']}, {memory} memory "
         "(/proc/meminfo)"),
        (f"- Python {machine['python']}, NumPy {machine['numpy']}, SciPy {machine['scipy']}, BLAS {machine['blas']} "
         f"(thread variables in the environment: {blas_env})"),
        data,
        (f"- Times: wall time (time.perf_counter), fastest of {runs[0]['repeat']} run(s) of each step; CPU time of "
         "the process in brackets (above the wall time when more than one core works). Load avg: the 1-minute load "
         "average when the scale started, including up to 1 from the benchmark's own previous run (the machine may be "
         "shared; above the core count plus one, wall times are pessimistic)."),
        "- Peak RSS: the process's high-water mark (resource.getrusage) after the step, simulated data included.",
        f"- Target (the issue's speed check): fit and scoring of 1M customers in under {TARGET_SECONDS} s on 2 cores.",
        "",
        ("| customers | BLAS threads | fit_bg_nbd | fit_gamma_gamma | predict | fit + scoring (CPU) | 1M under 30 s | "
         "peak RSS | load avg | distinct (x, t_x, T) | distinct (x, T) |"),
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        lines.append(
            f"| {run['customers']:,} | {run['blas_threads']} | {run['fit_bg_nbd_s']:.2f} s | "
            f"{run['fit_gamma_gamma_s']:.2f} s | {run['predict_s']:.2f} s | **{run['total_s']:.2f} s** "
            f"({run['total_cpu_s']:.2f} s) | {_verdict(run)} | "
            f"{run['predict_rss_mib']:,.0f} MiB | {run['load_average']:.2f} | {run['distinct_bg_nbd_rows']:,} | "
            f"{run['distinct_x_T_pairs']:,} |"
        )
    # the benchmark's own previous scale keeps one core busy and adds up to 1 to the 1-minute load average
    busy = [run for run in runs if run["load_average"] > (machine["cores"] or 1) + 1]
    if busy:
        lines += [
            "",
            (f"The load average was above the {machine['cores']} cores plus one (the benchmark's own previous run) "
             f"during {len(busy)} of the {len(runs)} runs: other processes shared the machine, so those wall times "
             "include waiting for a core. The CPU time is "
             "then the better estimate of an idle machine's wall time where the work runs on one core (BLAS threads "
             "1); with more BLAS threads it also counts threads spinning while they wait."),
        ]
    lines += [
        "",
        (f"Recovered parameters (simulated values above). 'Close' means that the simulated values lie inside the fit's "
         f"{CONFIDENCE:.1%} likelihood-ratio confidence region: the fit's log-likelihood is above the one at the "
         "simulated values (LL gain >= 0) by less than half the chi-square quantile (one degree of freedom per "
         "parameter)."),
        "",
    ]
    reported = set()
    for run in runs:
        verdict, evidence = _recovery(run)
        line = (
            f"- {run['customers']:,} customers: BG/NBD "
            f"{_format_parameters(run['fit_bg_nbd_parameters'])} ({run['fit_bg_nbd_status']}); Gamma-Gamma "
            f"{_format_parameters(run['fit_gamma_gamma_parameters'])} ({run['fit_gamma_gamma_status']}): "
            f"**{verdict}** to the simulated values ({evidence}); {run['predictions_not_finite']} non-finite "
            "predictions."
        )
        if line not in reported:  # the same fit, to the digits shown, under another BLAS setting is not repeated
            reported.add(line)
            lines.append(line)
    largest = max(run["customers"] for run in runs)
    for run in runs:
        if run["customers"] != largest:
            continue
        lines += [
            "",
            (f"Where the time goes, {largest:,} customers, BLAS threads: {run['blas_threads']} (one more run of each "
             "step with the parts below timed; the parts are not exclusive of each other where marked 'of which'):"),
            "",
            "| step | part | calls | time | share of the step |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        step_totals = {row["step"]: row["seconds"] for row in run["breakdown"] if row["part"] == "whole step"}
        for row in run["breakdown"]:
            share = row["seconds"] / step_totals[row["step"]] if step_totals[row["step"]] else 0.0
            lines.append(f"| {row['step']} | {row['part']} | {row['calls']} | {row['seconds']:.2f} s | {share:.0%} |")
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace the text between the markers (inclusive) with section, or append it; the rest is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_INTRO
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        end += len(END_MARKER)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def _print_table(runs: list[dict]) -> None:
    header = (f"{'customers':>10} {'blas':>8} {'bg_nbd':>8} {'gamma_g':>8} {'predict':>8} {'total':>8} {'cpu':>8} "
              f"{'peak MiB':>9} {'load':>5}")
    print(header)
    for run in runs:
        print(
            f"{run['customers']:>10,} {run['blas_threads']:>8} {run['fit_bg_nbd_s']:>7.2f}s "
            f"{run['fit_gamma_gamma_s']:>7.2f}s {run['predict_s']:>7.2f}s {run['total_s']:>7.2f}s "
            f"{run['total_cpu_s']:>7.2f}s {run['predict_rss_mib']:>9,.0f} {run['load_average']:>5.2f}"
        )
    for run in runs:
        verdict, evidence = _recovery(run)
        print(f"{run['customers']:,} ({run['blas_threads']}): recovered parameters {verdict} ({evidence})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="numbers of customers to benchmark (default: 100000 1000000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; the fastest wall time is kept")
    parser.add_argument("--blas-threads", nargs="+", default=["default"],
                        help="'default' (environment as it is) and/or a number of BLAS threads")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="markdown file whose section is rewritten")
    parser.add_argument("--no-doc", action="store_true", help="print only, do not write the markdown file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(run_worker(args.customers[0], args.seed, args.repeat)))
        return 0
    runs = []
    for n_customers in args.customers:
        for blas_threads in args.blas_threads:
            print(f"benchmarking {n_customers:,} customers (BLAS threads: {blas_threads}) ...", flush=True)
            runs.append(_run_in_child(n_customers, args.seed, args.repeat, blas_threads))
    _print_table(runs)
    if not args.no_doc:
        write_section(args.doc, render_section(_machine(), runs))
        print(f"wrote the bench-clv section of {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
