"""AppTest of the PQRST page: marks, measurements with flags, methods and their disagreement."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
needs_weights = pytest.mark.skipif(not (ROOT / "weights" / "delineation_unet.pt").exists(),
                                   reason="no shipped delineation model")


def _open(record=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    if record is not None:
        from app_pages._common import record_key

        at.session_state["record"] = record
        at.session_state["record_key"] = record_key(record)
        at.session_state["record_source"] = "test"
    at.switch_page("app_pages/pqrst.py").run()
    return at


def _measurements(at) -> dict:
    table = at.dataframe[0].value  # the measurement table comes first
    return dict(zip(table["measurement"], table["value"]))


def test_pqrst_classical_on_ludb_record(ludb):
    from ecg_core.data.ludb import load_ludb

    rec, _ = load_ludb("1")  # 46 bpm sinus bradycardia, left axis deviation (LUDB diagnoses)
    at = _open(rec)
    at.radio(key="pq_method").set_value("neurokit_dwt").run()
    assert not at.exception
    m = _measurements(at)
    assert 40 <= m["Heart rate"] <= 52
    assert any("bradycardia" in w.value for w in at.warning)
    at.selectbox(key="pq_formula").select("Fridericia").run()
    assert "QTc (Fridericia)" in _measurements(at)


def test_pqrst_qtc_limits_follow_the_sex_in_the_header(wfdb_samples):
    from ecg_core.io import load_record

    rec = load_record(wfdb_samples / "s0010_re.hea")  # PTB: "sex: female", "age: 81" in its comments
    at = _open(rec)
    at.radio(key="pq_method").set_value("neurokit_dwt").run()
    assert not at.exception
    sex = at.radio(key=f"pq_sex_{at.session_state['record_key']}")
    assert sex.value == "F" and "the file says female" in sex.label
    assert any("Age 81" in c.value for c in at.caption)


@needs_weights
def test_pqrst_learned_on_demo_and_disagreement_table():
    at = _open()
    assert at.radio(key="pq_method").value == "unet"
    assert not at.exception
    m = _measurements(at)
    assert 65 <= m["Heart rate"] <= 80  # the demo: 72 bpm
    assert 60 <= m["QRS duration"] <= 130
    assert any("pacing spike" in c.value for c in at.caption)  # the known weak spot is said beside the table
    at.checkbox(key="pq_compare").check().run()
    assert not at.exception
    rows = [df.value for df in at.dataframe if "wave" in df.value.columns][0]  # the disagreement table
    assert set(rows["wave"]) == {"P", "QRS", "T"} and len(rows) == 36  # 12 leads x 3 waves
    beats = [df.value for df in at.dataframe if "qrs_on" in df.value.columns][0]  # lead II's beat marks
    assert len(beats) >= 10 and beats["qrs_on"].notna().all()


@needs_weights
def test_heart_rate_is_one_figure_on_signal_and_pqrst():
    """The demo read 73 bpm on Signal and 71 on PQRST (median RR against mean RR): one definition now."""
    at = _open()
    pq = _measurements(at)["Heart rate"]
    at.switch_page("app_pages/signal.py").run()
    sig = {m.label: m.value for m in at.metric}["Heart rate"]
    assert sig == f"{pq:.0f} bpm" == "73 bpm"
    at.switch_page("app_pages/pqrst.py").run()
    at.radio(key="pq_method").set_value("neurokit_dwt").run()
    assert f"{_measurements(at)['Heart rate']:.0f} bpm" == sig


def test_pqrst_too_short_record_gets_a_message():
    import numpy as np

    from ecg_core.record import Record

    rec = Record(np.random.default_rng(0).normal(size=(1, 400)) * 0.1, 250.0, ("II",), name="tiny")
    at = _open(rec)
    at.radio(key="pq_method").set_value("neurokit_dwt").run()
    assert not at.exception
    assert any("too short" in e.value for e in at.error)
