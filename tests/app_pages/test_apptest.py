"""AppTest of app.py and the Signal page: what a user sees, asserted on the rendered elements."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def _app():
    at = AppTest.from_file(APP, default_timeout=60)
    return at


def test_home_shows_purpose_disclaimer_and_demo_button():
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "ECG workbench"
    assert any("not a medical device" in w.value for w in at.warning)
    assert at.button[0].label == "Open the demo record"
    assert "Current record: **demo**" in " ".join(c.value for c in at.sidebar.caption)


def test_signal_page_on_demo_shows_rate_beats_quality():
    at = _app().run()
    at.switch_page("app_pages/signal.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Beats"] == "12"
    assert metrics["Heart rate"].endswith("bpm") and 65 <= int(metrics["Heart rate"].split()[0]) <= 80
    assert (metrics["Leads"], metrics["Sampling"]) == ("12", "500 Hz")
    beats = at.dataframe[1].value
    assert list(beats["label"]).count("V") == 2
    quality = at.dataframe[0].value
    assert list(quality["quality"]) == ["good"] * 12


def test_signal_page_opens_a_database_record_and_keeps_it_across_pages(mitdb, monkeypatch):
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    at = _app().run()
    at.switch_page("app_pages/signal.py").run()
    at.selectbox(key="sig_db").select("mitdb").run()
    at.selectbox(key="sig_db_record").select("105").run()
    at.button(key="sig_db_open").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Leads"], metrics["Sampling"]) == ("2", "360 Hz")
    assert 2550 <= int(metrics["Beats"]) <= 2650  # 105 has 2572 reference beats
    assert at.slider(key="sig_start").max == pytest.approx(1805.6 - 10, abs=0.1)
    at.switch_page("app_pages/home.py").run()
    assert at.session_state["record"].name == "105"  # the current record of every page
    at.switch_page("app_pages/signal.py").run()
    assert {m.label: m.value for m in at.metric}["Sampling"] == "360 Hz"


def test_signal_page_filter_changes_are_applied():
    at = _app().run()
    at.switch_page("app_pages/signal.py").run()
    at.selectbox(key="sig_notch").select("50 Hz").run()
    assert not at.exception
    assert "notch 50 Hz" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("raised, shown", [
    ("ecg", "upload.csv: column 'II' holds text. The current record is unchanged."),
    ("bug", "Something went wrong on this page (KeyError). The current record is unchanged"),
])
def test_a_page_that_fails_shows_a_message_not_a_traceback(monkeypatch, raised, shown, caplog):
    """app.py runs the page: a project error is shown as it is; anything else as a short message, with the
    details in the server log (not the message, which may name a patient's file)."""
    import logging

    import app_pages._common as common
    from ecg_core.errors import RecordFormatError

    real = common.init_state
    secret = "".join(["Ja", "ne_Doe.csv"])

    def failing(from_app: bool = False):
        real(from_app)
        if not from_app:  # the page's own call, after app.py's
            if raised == "ecg":
                raise RecordFormatError("upload.csv: column 'II' holds text.")
            raise KeyError(secret)  # a message naming a patient's file (not in this source line)

    monkeypatch.setattr(common, "init_state", failing)
    monkeypatch.setenv("ECG_DEBUG", "0")
    with caplog.at_level(logging.INFO):
        at = _app().run()
    assert not at.exception
    assert any(shown in e.value for e in at.error), [e.value for e in at.error]
    assert "Current record: **demo**" in " ".join(c.value for c in at.sidebar.caption)  # the app still draws
    assert "Jane_Doe" not in caplog.text
    if raised == "bug":
        assert "page Home failed: KeyError" in caplog.text


def _sidebar(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", ["image", "training", "pqrst", "models", "diagnosis", "home", "signal"])
def test_notice_and_current_record_on_every_page_in_every_state(page):
    """Image before an upload and Training stop early (st.stop); PQRST stops early on a record without a
    QRS complex: the sidebar still names the record and carries the notice."""
    import numpy as np

    from app_pages._common import record_key
    from ecg_core.record import Record

    at = _app().run()
    if page == "pqrst":  # 10 s of slow baseline sway, no QRS complex: the page stops after saying so
        t = np.arange(5000) / 500.0
        rec = Record(0.3 * np.sin(2 * np.pi * 0.3 * t)[None, :], 500.0, ("II",), name="no_qrs")
        at.session_state["record"], at.session_state["record_key"] = rec, record_key(rec)
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    name = "no_qrs" if page == "pqrst" else "demo"
    assert f"Current record: **{name}**" in _sidebar(at) and "not a medical device" in _sidebar(at)
    if page == "image":
        assert any("No image yet" in i.value for i in at.info)
    if page == "pqrst":
        assert any("No QRS complex was found" in i.value for i in at.info), [i.value for i in at.info]


def test_uploads_accept_any_type_so_refusals_are_messages():
    """A .wav was refused by the browser's file filter, a tooltip only: the uploaders take any file and
    load_record / read_image say why (tested with the real file in tests/browser)."""
    at = _app().run()
    at.switch_page("app_pages/signal.py").run()
    assert [list(u.proto.type) for u in at.get("file_uploader")] == [[]]
    at.switch_page("app_pages/image.py").run()
    assert all(list(u.proto.type) == [] for u in at.get("file_uploader"))
