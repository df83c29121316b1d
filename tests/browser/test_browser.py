"""The real thing: Streamlit served on 127.0.0.1, driven by Playwright in Debian's Chromium.

One test per page and flow: Signal upload (and a broken upload that keeps the previous record), a
12-lead record through Signal -> PQRST -> Diagnosis -> PDF report, an uploaded ECG image digitised and
made the current record for Diagnosis, Training (launch, progress, stop), Models, Home; two browser
sessions at once never see each other's record. Each page's screenshot is saved; with
ECG_UPDATE_SCREENSHOTS=1 they replace the gallery (docs/gallery, shown in docs/results.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests._serve import CHROMIUM, CHROMIUM_ARGS, serve_app, stop_app
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshot-signal.png"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def server(runs_dir):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    try:
        proc, url = serve_app({"ECG_RUNS_DIR": str(runs_dir)}, timeout_s=60)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    stop_app(proc)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _new_page(browser):
    """A page in its own browser context: its own cookies and connection, so its own Streamlit session."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1500}).new_page()
    pg.set_default_timeout(60_000)
    return pg


@pytest.fixture(scope="module")
def page(browser):
    pg = _new_page(browser)
    yield pg
    pg.context.close()


_SETTLED_JS = """() => {
    const w = document.querySelector('[data-testid="stStatusWidget"]');
    if (w && /running|stop/i.test(w.innerText)) return false;   // the script is still running
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    return plots.every(p => p.querySelector('.main-svg') && p._fullLayout);  // every chart drawn
}"""


def _settled(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app's script has finished and every plotly chart is drawn (a condition, not a fixed
    time: on a loaded machine it takes what it takes)."""
    page.wait_for_function(_SETTLED_JS, timeout=timeout_ms, polling=250)


def _gallery(page, tmp_path, name: str) -> None:
    """Screenshot of the whole page; the gallery copy is refreshed with ECG_UPDATE_SCREENSHOTS=1."""
    assert "Traceback" not in page.locator("body").inner_text()
    _settled(page)
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":
        (ROOT / "docs" / "gallery").mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "gallery" / f"{name}.png")


def _nav(page, label: str) -> None:
    """Go to another page through the sidebar (a link click keeps the session, a new URL would not)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()


PAGES = ["Home", "Signal", "PQRST", "Diagnosis", "Image", "Training", "Models"]


def _links(nav) -> list[str]:
    """The navigation's page titles (each link's text ends with its title, after the icon's name)."""
    return [t.strip().split("\n")[-1].strip() for t in nav.get_by_role("link").all_inner_texts()]


def test_first_request_to_a_fresh_server_shows_the_real_navigation(server, browser):
    """First in this file, so the server's first request: a deep link. With the pages in a folder named
    pages/, Streamlit showed its own list of lowercase file links (app, common, diagnosis, ...) for ~10 s
    first."""
    pg = _new_page(browser)
    try:
        pg.goto(f"{server}/pqrst")
        nav = pg.locator('[data-testid="stSidebarNav"]')
        nav.wait_for()
        assert _links(nav) == PAGES  # the first navigation drawn is the real one
        pg.get_by_text("Current record: demo").wait_for()
        pg.get_by_text("not a medical device").first.wait_for()
        pg.get_by_role("heading", name="PQRST").wait_for()
        _settled(pg)
        assert _links(nav) == PAGES
    finally:
        pg.context.close()


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
    _settled(page)
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1
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
    page.get_by_text("Record demo (upload)").wait_for()  # the upload before is still the record
    assert "Traceback" not in page.locator("body").inner_text()


def test_unreadable_file_type_is_refused_with_a_message(server, page, tmp_path):
    """A .wav was refused by the browser's file filter with a hover tooltip only."""
    wav = tmp_path / "recording.wav"
    wav.write_bytes(b"RIFF" + bytes(60))
    page.goto(f"{server}/signal")
    page.get_by_text("Heart rate").first.wait_for()
    page.locator("input[type=file]").first.set_input_files(str(wav))
    err = page.locator('[data-testid="stAlert"]').filter(has_text="recording.wav")
    err.wait_for()
    assert "files of type '.wav' are not supported" in err.inner_text()
    assert "The previous record is still shown" in err.inner_text()
    page.get_by_text("Current record: demo").wait_for()


def test_diagnosis_report_downloads_as_pdf(server, page, tmp_path):
    page.goto(f"{server}/diagnosis")
    page.get_by_text("Current record: demo").wait_for()
    button = page.get_by_role("button", name="Report (PDF)")
    button.wait_for(timeout=180_000)
    _settled(page, 300_000)  # the whole page has run: the click is not lost in a rerun
    with page.expect_download(timeout=300_000) as dl:
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
    _settled(page)
    page.screenshot(path=str(tmp_path / "image.png"), full_page=True)
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(tmp_path / "image.png", ROOT / "docs" / "screenshot-image.png")
    _gallery(page, tmp_path, "image")


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
    page.get_by_text(re.compile("python -m ecg_core -v train delineation")).first.wait_for()  # drawn one by one
    _settled(page)
    assert "Traceback" not in page.locator("body").inner_text()
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    if os.environ.get("ECG_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(tmp_path / "training.png", ROOT / "docs" / "screenshot-training.png")
    _gallery(page, tmp_path, "training")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name="Resume").wait_for(timeout=60_000)
    assert wb.read_job(run)["status"] == "stopped"


def test_two_sessions_never_see_each_others_record(server, browser, demo_csv, tmp_path):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("ecg_upload_*"))
    a, b = _new_page(browser), _new_page(browser)
    try:
        private = tmp_path / "patient_a.csv"
        shutil.copy(demo_csv, private)
        a.goto(f"{server}/signal")
        a.get_by_text("Current record: demo").wait_for()
        b.goto(f"{server}/signal")
        b.get_by_text("Current record: demo").wait_for()
        a.locator("input[type=file]").first.set_input_files(str(private))
        a.get_by_text("Record patient_a (upload)").wait_for()
        b.reload()  # B reruns after A's upload: still the demo, and nothing of A's
        b.get_by_text("Current record: demo").wait_for()
        b.get_by_text("Heart rate").first.wait_for()
        b.locator(".js-plotly-plot").last.wait_for()  # the page has drawn its record
        assert "patient_a" not in b.locator("body").inner_text()
        _nav(a, "PQRST")
        a.get_by_text("Current record: patient_a").wait_for()
    finally:
        a.context.close()
        b.context.close()
    # the upload was read from a private temporary folder that is gone
    assert set(Path(tempfile.gettempdir()).glob("ecg_upload_*")) <= before


def test_home_page(server, page, tmp_path):
    page.goto(server)
    page.get_by_role("heading", name="ECG workbench").wait_for()
    page.get_by_text("not a medical device").first.wait_for()  # elements arrive one by one: wait, not read
    _gallery(page, tmp_path, "home")
    page.get_by_role("button", name="Open the demo record").click()
    page.get_by_text("Heart rate").first.wait_for()
    _gallery(page, tmp_path, "signal")


def test_12_lead_record_from_signal_to_pqrst_to_diagnosis_report(server, browser, ludb, tmp_path):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.io import wfdb_zip_bytes

    rec, _ = load_ludb("1")
    upload = tmp_path / "ludb1.zip"
    upload.write_bytes(wfdb_zip_bytes(rec.replace(name="ludb1")))
    pg = _new_page(browser)
    try:
        pg.goto(f"{server}/signal")
        pg.get_by_text("Current record: demo").wait_for()
        pg.locator("input[type=file]").first.set_input_files(str(upload))
        pg.get_by_text("Record ludb1 (upload)").wait_for()
        values = pg.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert values[-2:] == ["12", "500 Hz"]
        _nav(pg, "PQRST")
        pg.get_by_role("heading", name="Measurements").wait_for(timeout=120_000)
        table = pg.locator('[data-testid="stDataFrame"]').first
        table.wait_for()
        pg.get_by_text("Current record: ludb1").wait_for()
        pg.get_by_text(re.compile("QTc")).first.wait_for()
        _gallery(pg, tmp_path, "pqrst")
        _nav(pg, "Diagnosis")
        pg.get_by_role("heading", name="12-lead diagnosis").wait_for(timeout=180_000)
        button = pg.get_by_role("button", name="Report (PDF)")
        button.wait_for(timeout=180_000)
        pg.get_by_text("Current record: ludb1").wait_for()
        _gallery(pg, tmp_path, "diagnosis")
        with pg.expect_download(timeout=300_000) as dl:
            button.click()
        path = tmp_path / "report.pdf"
        dl.value.save_as(path)
        assert path.read_bytes()[:5] == b"%PDF-" and dl.value.suggested_filename == "ecg_read_ludb1.pdf"
    finally:
        pg.context.close()


def test_uploaded_ecg_image_becomes_the_record_for_diagnosis(server, browser, ludb, tmp_path):
    from PIL import Image

    from ecg_core.data.ludb import load_ludb
    from ecg_core.data.render import RenderStyle, render_record

    rec, _ = load_ludb("2")
    png = tmp_path / "scan_ludb2.png"
    Image.fromarray(render_record(rec, style=RenderStyle(dpi=150)).image).save(png)
    pg = _new_page(browser)
    try:
        pg.goto(f"{server}/image")
        pg.get_by_text("No image yet").wait_for()
        pg.locator("input[type=file]").first.set_input_files(str(png))
        pg.get_by_text("Read back").wait_for(timeout=120_000)
        values = pg.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert values[2:] == ["3 × 4 + rhythm", "12"]
        pg.get_by_role("button", name="Use this record on every page").click()
        pg.get_by_text("is now the current record").wait_for()
        _nav(pg, "Diagnosis")
        pg.get_by_text(re.compile(r"Current record: scan_ludb2\S* \(digitised\)")).wait_for()
        pg.get_by_role("heading", name="12-lead diagnosis").wait_for(timeout=180_000)
        assert "Traceback" not in pg.locator("body").inner_text()
    finally:
        pg.context.close()


def test_models_page_lists_the_shipped_models(server, page, tmp_path):
    page.goto(f"{server}/models")
    page.get_by_role("heading", name="Models").first.wait_for()
    shipped = sorted(p.name for p in (ROOT / "weights").glob("*.pt"))
    assert shipped
    for name in shipped:  # one expander per model card (waited for: the page draws them one by one)
        page.get_by_text(name).first.wait_for()
    page.get_by_text("beat_diagnostic.pt").first.click()  # open its card: figures, hash, command
    sha = json.loads((ROOT / "weights" / "beat_diagnostic.json").read_text())["sha256"]
    page.get_by_text(re.compile("sha256 " + sha[:12])).first.wait_for()
    page.get_by_text(re.compile("train beats --model beat_template_resnet --mode diagnostic")).first.wait_for()
    _gallery(page, tmp_path, "models")


def test_uploads_without_the_xsrf_token_are_refused(server):
    """Streamlit's XSRF protection is on: an upload from outside a page's session (no token) is refused."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{server}/_stcore/upload_file/some-session/some-file", data=b"time,II\n0,1\n",
                                 method="PUT", headers={"Content-Type": "application/octet-stream"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 403 and b"XSRF" in err.value.read()  # (with protection off: 400, unknown session)
