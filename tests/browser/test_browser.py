"""The real thing: Streamlit served on 127.0.0.1, driven by Playwright in Debian's Chromium.

Uploads a CSV, checks the tracing and the heart rate are on screen, takes the screenshot README shows
(written to docs/ when ECG_UPDATE_SCREENSHOTS=1),
then uploads a broken CSV and checks the error is shown while the previous record stays.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshot-signal.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def server(runs_dir):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", ECG_RUNS_DIR=str(runs_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1500})
        pg.set_default_timeout(60_000)
        yield pg
        browser.close()


def test_upload_csv_shows_tracing_and_heart_rate(server, page, demo_csv, tmp_path):
    page.goto(f"{server}/signal")
    page.get_by_text("Heart rate").first.wait_for()
    # a deep link on a fresh server still gets app.py's navigation and disclaimer
    page.get_by_text("Current record: demo").wait_for()
    page.locator("input[type=file]").first.set_input_files(str(demo_csv))
    page.get_by_text("Record demo (upload)").wait_for()  # caption under the metrics names the upload
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[4:] == ["2", "250 Hz"]  # the CSV's two leads at the rate its time column gives
    assert values[0].endswith("bpm") and 60 <= int(values[0].split()[0]) <= 85
    page.locator(".js-plotly-plot").last.wait_for()
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1
    time.sleep(1.0)  # let plotly finish drawing before the screenshot
    page.screenshot(path=str(tmp_path / "signal.png"), full_page=True)
    assert (tmp_path / "signal.png").stat().st_size > 20_000
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":  # refresh the README's picture on request only
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "signal.png", SCREENSHOT)


def test_bad_upload_shows_message_and_keeps_previous_record(server, page, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("time,II\n0,0.1\n0.004,oops\n0.008,0.2\n")
    page.locator("input[type=file]").first.set_input_files(str(bad))
    err = page.locator('[data-testid="stAlert"]').filter(has_text="broken.csv")
    err.wait_for()
    assert "holds text where a number is expected" in err.inner_text()
    assert "The previous record is still shown" in err.inner_text()
    assert "Traceback" not in page.locator("body").inner_text()
    assert "Record demo (upload)" in page.locator("body").inner_text()


def test_diagnosis_report_downloads_as_pdf(server, page, tmp_path):
    page.goto(f"{server}/diagnosis")
    page.get_by_text("Current record: demo").wait_for()
    button = page.get_by_role("button", name="Report (PDF)")
    button.wait_for(timeout=180_000)
    with page.expect_download(timeout=120_000) as dl:
        button.click()
    path = tmp_path / "report.pdf"
    dl.value.save_as(path)
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 20_000
    assert dl.value.suggested_filename.startswith("ecg_read_") and dl.value.suggested_filename.endswith(".pdf")
    assert "Traceback" not in page.locator("body").inner_text()


def test_image_page_reads_a_printed_record_back(server, page, tmp_path):
    page.goto(f"{server}/image")
    page.get_by_text("No image yet").wait_for()
    page.get_by_role("tab", name="Print the current record").click()
    page.get_by_role("button", name="Print and read").click()
    page.get_by_text("Read back").wait_for(timeout=120_000)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[2:] == ["3 × 4 + rhythm", "12"] and values[0].endswith("px/mm")
    page.locator(".js-plotly-plot").nth(1).wait_for()  # the panels found, the record read back
    assert "Traceback" not in page.locator("body").inner_text()
    time.sleep(1.0)  # let plotly finish drawing before the screenshot
    page.screenshot(path=str(tmp_path / "image.png"), full_page=True)
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(tmp_path / "image.png", ROOT / "docs" / "screenshot-image.png")


def test_training_page_watches_and_stops_a_run(server, page, runs_dir, ludb, tmp_path):
    from ecg_core import workbench as wb

    run = wb.submit("delineation", {"epochs": 40, "folds": "0", "crop": 1024, "batch_size": 16, "threads": 1},
                    runs_dir, note="browser test")
    t0 = time.time()
    while len(wb.run_metrics(run)) < 3 and time.time() - t0 < 240:
        time.sleep(1.0)
    assert len(wb.run_metrics(run)) >= 3, wb.log_tail(run)
    page.goto(f"{server}/training")
    page.get_by_text("Log (last lines)").wait_for(timeout=120_000)
    page.locator(".js-plotly-plot").nth(1).wait_for()  # loss and validation curves
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for()
    assert bar.inner_text().startswith("running ·"), bar.inner_text()
    body = page.locator("body").inner_text()
    assert "python -m ecg_core -v train delineation" in body and "Traceback" not in body
    time.sleep(1.0)
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(tmp_path / "training.png", ROOT / "docs" / "screenshot-training.png")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name="Resume").wait_for(timeout=60_000)
    assert wb.read_job(run)["status"] == "stopped"
