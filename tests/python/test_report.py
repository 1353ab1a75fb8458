"""The HTML report (tools/report.py) built from the bundled sample's warehouse: self-contained, text from the data
escaped, the optional sections degrade to a message, and every chart is drawn in a real browser (headless Chromium:
the page's own render check, read from the dumped DOM, and a screenshot that is not blank).

Chromium is looked up on PATH; when it is missing the session tries `apt-get install chromium` (as root only) and
otherwise skips the browser tests with the reason.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest
from conftest import DbtRun

from tools import report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_TIMEOUT_SECONDS = 600
BROWSER_TIMEOUT_SECONDS = 120
SAMPLE_CHARTS = 7  # lifecycle bars, RFM heatmap, RFM bars, Pareto curve, by region, by channel, cohorts (+ transitions)


def _find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    browser = _find_browser()
    if browser is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        try:
            subprocess.run("apt-get update && apt-get install -y chromium", shell=True, capture_output=True,
                           timeout=INSTALL_TIMEOUT_SECONDS, check=False,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        except subprocess.TimeoutExpired:
            pass
        browser = _find_browser()
    if browser is None:
        pytest.skip(f"no headless browser: none of {', '.join(BROWSERS)} is on PATH and it could not be installed "
                    "(apt-get install chromium, as root); the report's browser tests need one")
    return browser


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
         "--hide-scrollbars", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=BROWSER_TIMEOUT_SECONDS, check=False,
    )


def _render_check(chromium: str, page: Path, profile: Path) -> dict:
    """The JSON the page's inline script writes into <pre id="render-check"> after load."""
    result = _browser(chromium, profile, "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="render-check"[^>]*>(.*?)</pre>', result.stdout, re.DOTALL)
    assert match, f"no render check in the dumped DOM (exit {result.returncode}): {result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


def _png_pixels_data(png: bytes) -> tuple[int, int, bytes]:
    """(width, height, decompressed image data) of a PNG, read with zlib: enough to tell a blank image."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, width, height, idat = 8, 0, 0, b""
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        chunk = png[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def _copy_warehouse(run: DbtRun, folder: Path) -> Path:
    copy = folder / "warehouse.duckdb"
    shutil.copy(run.warehouse, copy)
    return copy


@pytest.fixture(scope="session")
def sample_report(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "segment_report.html"
    assert report.main(["--warehouse", str(sample_build.warehouse), "--out", str(out)]) == 0
    return out


def test_report_charts_render_in_headless_chromium(chromium: str, sample_report: Path, tmp_path: Path) -> None:
    check = _render_check(chromium, sample_report, tmp_path / "profile")
    assert check["failed"] == [], check
    assert check["charts"] == check["expected"] == check["rendered"], check
    assert check["charts"] >= SAMPLE_CHARTS


def test_report_screenshot_is_not_blank(chromium: str, sample_report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    result = _browser(chromium, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,4000",
                      sample_report.as_uri())
    assert screenshot.is_file(), result.stderr[-2000:]
    png = screenshot.read_bytes()
    width, height, pixels = _png_pixels_data(png)
    assert (width, height) == (1280, 4000)
    # a blank page compresses to a few KB and its (filtered) rows hold a handful of byte values
    assert len(png) > 100_000, len(png)
    assert len(set(pixels)) > 100


def test_report_is_self_contained(sample_report: Path) -> None:
    page = sample_report.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.IGNORECASE), "a script loaded from elsewhere"
    assert not re.search(r"<(link|img|iframe|object|embed|image|use)\b", page, re.IGNORECASE), "an element that loads a file"
    assert not re.search(r"""\b(src|href|srcset|data|action)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page
    assert "http://" not in page and "https://" not in page


def test_report_content_of_the_sample(sample_build: DbtRun, sample_report: Path) -> None:
    page = sample_report.read_text(encoding="utf-8")
    (as_of_date,) = sample_build.query("select max(as_of_date) from marts.customer_segments")[0]
    assert f"<h1>Customer segments as of {as_of_date}</h1>" in page
    assert "khách hàng trung thành" in page  # Vietnamese labels as UTF-8 text, not mangled
    charts = re.findall(r'<svg class="chart" id="([^"]+)"', page)
    assert len(charts) >= SAMPLE_CHARTS
    for chart in charts:  # each chart has an accessible name and description, referenced by aria-labelledby
        assert f'<title id="{chart}-title">' in page and f'<desc id="{chart}-desc">' in page
    # the cohort heatmap: the newest cohort's month 0 is 100% of its customers
    assert "chart-cohorts" in charts
    newest, size = sample_build.query("select cohort_month, cohort_customers from marts.cohort_retention "
                                      "where months_since = 0 order by cohort_month desc limit 1")[0]
    assert f"cohort {str(newest)[:7]}, month 0: 100.0% active ({size:,} of {size:,})" in page
    history = sample_build.query(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'segment_transitions'")[0][0]
    if not history or not sample_build.query("select count(*) from marts.segment_transitions")[0][0]:
        assert report.NO_HISTORY_MESSAGE in page


def test_report_with_history_and_playbook_escapes_data(chromium: str, sample_build: DbtRun, tmp_path: Path) -> None:
    """A warehouse with segment transitions and a care playbook holding markup: the transitions chart is drawn,
    the playbook is read instead of the lifecycle_segments fallback and text from the data is escaped."""
    warehouse = _copy_warehouse(sample_build, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table if exists marts.segment_transitions")
        connection.execute("drop table if exists reference.care_playbook")
        connection.execute("""
            create table marts.segment_transitions as
            select
                date '2026-03-31' as period_start, date '2026-06-30' as period_end,
                from_segment, to_segment, customers, cast(net_revenue as decimal(38, 2)) as net_revenue
            from (values ('not_yet_customer', 'new', 5, 100.0), ('new', 'loyal', 3, 250.0),
                         ('loyal', 'loyal', 40, 9000.0), ('loyal', 'at_risk', 2, 0.0))
                as rows (from_segment, to_segment, customers, net_revenue)
        """)
        connection.execute("""
            create table reference.care_playbook as
            select * from (values
                ('segment', 'vip', 1, 'VIP', 'khách hàng VIP', 'Call <script>alert(1)</script> & thank',
                 'Gọi điện cảm ơn', 'phone'),
                ('flag', 'complainer', 1, 'Complainer', 'khách hàng khiếu nại', 'Resolve the complaint first',
                 'Giải quyết khiếu nại trước', 'phone')
            ) as rows (entry_type, entry_key, priority, label, label_vi, recommended_action, recommended_action_vi,
                       recommended_channel)
        """)
    out = tmp_path / "report.html"
    assert report.main(["--warehouse", str(warehouse), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "From reference.care_playbook." in page
    assert "Call &lt;script&gt;alert(1)&lt;/script&gt; &amp; thank" in page
    assert "<script>alert(1)" not in page
    assert report.NO_HISTORY_MESSAGE not in page
    assert 'id="chart-transitions"' in page
    assert "(not yet a customer)" in page
    check = _render_check(chromium, out, tmp_path / "profile")
    assert check["failed"] == [] and check["charts"] == check["expected"] == check["rendered"] == SAMPLE_CHARTS + 1


def test_report_without_history_rows_or_playbook(sample_build: DbtRun, tmp_path: Path) -> None:
    """An empty segment_transitions table gives the backfill message; without care_playbook the segments' actions
    from lifecycle_segments are shown."""
    warehouse = _copy_warehouse(sample_build, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table if exists marts.segment_transitions")
        connection.execute("drop table if exists reference.care_playbook")
        connection.execute("""
            create table marts.segment_transitions (
                period_start date, period_end date, from_segment varchar, to_segment varchar, customers bigint,
                net_revenue decimal(38, 2)
            )
        """)
    out = tmp_path / "report.html"
    assert report.main(["--warehouse", str(warehouse), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert report.NO_HISTORY_MESSAGE in page
    assert 'id="chart-transitions"' not in page
    playbook = page[page.index('<h2 id="playbook">'):]
    assert "From reference.lifecycle_segments" in playbook
    (potential_vi,) = sample_build.query(
        "select lifecycle_segment_vi from reference.lifecycle_segments where lifecycle_segment = 'potential'")[0]
    assert potential_vi in playbook


def test_report_fails_with_one_line_without_a_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert report.main(["--warehouse", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "r.html")]) == 1
    assert "no warehouse at" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
