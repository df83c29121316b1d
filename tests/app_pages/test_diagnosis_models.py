"""AppTest of the Diagnosis and Models pages with the shipped beat models."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
needs_weights = pytest.mark.skipif(not (ROOT / "weights" / "beat_diagnostic.pt").exists(),
                                   reason="no shipped beat model")


def _open(page: str, record: str | None = None, mitdb=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    if record:
        from app_pages._common import set_record  # noqa: F401  (same state keys as the app)
        from ecg_core.io import load_record

        rec = load_record(mitdb / f"{record}.hea")
        at.session_state["record"] = rec
        from app_pages._common import record_key

        at.session_state["record_key"] = record_key(rec)
        at.session_state["record_source"] = f"mitdb/{record}"
    at.switch_page(page).run()
    return at


@needs_weights
def test_diagnosis_on_a_bigeminy_record(mitdb):
    at = _open("app_pages/diagnosis.py", "119", mitdb)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["V beats"]) > 380  # record 119: 444 ventricular beats, long bigeminy
    summary = _table(at, "origin").set_index("origin")
    assert summary.loc["V", "bigeminy episodes"] >= 1
    beats = _table(at, "class")
    assert {"class", "confidence", "p(N)", "p(V)", "source"} <= set(beats.columns)
    model = beats["source"] == "model"
    assert beats.loc[model, "confidence"].between(0, 1).all() and beats.loc[~model, "confidence"].isna().all()
    assert any("not a medical device" in w.value for w in at.warning)


@needs_weights
def test_diagnosis_finds_apcs_with_the_premature_beat_rule(mitdb):
    """Record 220 (DS1: APCs in sinus rhythm): the diagnostic model with the rule, as its DS2 figures."""
    at = _open("app_pages/diagnosis.py", "220", mitdb)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["S beats"]) >= 55  # 94 APCs in the reference
    beats = _table(at, "class")
    assert (beats["source"] == "premature-beat rule").sum() >= 1  # the model (trained on 220) finds the rest
    assert (beats.loc[beats["source"] == "premature-beat rule", "class"] == "S").all()
    cap = " ".join(c.value for c in at.caption)
    assert "+ premature-beat rule" in cap and "S F1 0.59" in cap


@needs_weights
def test_diagnosis_toggle_realtime_and_demo():
    at = _open("app_pages/diagnosis.py")
    at.radio(key="dx_mode").set_value("realtime").run()
    assert not at.exception
    cap = " ".join(c.value for c in at.caption)
    assert "realtime + premature-beat rule" in cap and "S F1 0.57" in cap  # the causal rule's DS2 figures
    assert sum(int(m.value) for m in at.metric) == 12  # the demo's 12 beats, each in one class


def test_models_page_lists_cards_or_says_none():
    at = _open("app_pages/models.py")
    assert not at.exception
    if (ROOT / "weights" / "beat_diagnostic.json").exists():
        assert any("beat_diagnostic.pt" in e.label for e in at.expander)
        data = [r for df in at.dataframe for r in df.value.to_dict("records")]
        ruled = [r for r in data if r.get("data") == "DS2, with the premature-beat rule"]
        assert len(ruled) == 2 and all(r["S F1"] > 0.55 and r["macro-F1"] > 0.6 for r in ruled)
        alone = [r for r in data if r.get("data") == "DS2, model alone (no premature-beat rule)"]
        assert len(alone) == 2 and all(r["macro-F1"] < 0.6 for r in alone)  # 0.518 / 0.57: now labelled
        if (ROOT / "bench/results/quantize.json").exists():
            assert any("DS2 macro-F1, model alone (no rule)" in df.value.columns for df in at.dataframe)
        if (ROOT / "weights" / "keypoints_detr.json").exists():
            assert {r.get("method") for r in data} >= {"ViT-DETR", "digitise, then delineate", "hybrid"}
    else:
        assert any("No trained weights" in i.value for i in at.info)


needs_mm = pytest.mark.skipif(not (ROOT / "weights" / "multimodal_ludb.pt").exists(),
                              reason="no shipped 12-lead model")


@needs_mm
def test_diagnosis_12_lead_read_with_uncertainty_on_ludb(ludb):
    import json

    import numpy as np

    from app_pages._common import record_key
    from ecg_core.data.ludb import DIAGNOSIS_CLASSES, LEARNED_STATEMENTS, load_ludb
    from ecg_core.predict.diagnosis import diagnose, load_multimodal, statement_weights

    rec, _ = load_ludb("1")
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.session_state["record"] = rec
    at.session_state["record_key"] = record_key(rec)
    at.switch_page("app_pages/diagnosis.py").run()
    assert not at.exception
    assert any(h.value == "12-lead diagnosis" for h in at.subheader)
    caption = " ".join(c.value for c in at.caption)
    assert "Modality gates: signal" in caption and "image" in caption and "meta" in caption
    assert "30 MC-dropout samples" in caption
    # four charts: the class bars, the Grad-CAM strip over lead II, the rollout over the image, the beats on paper
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    # five charts: the learned statements' bars, the class bars, the Grad-CAM strip over lead II, the rollout
    # over the image, the beats on paper
    assert len(charts) == 5
    learned = charts[0]["data"][0]
    members, spec, card = load_multimodal(statement_weights())
    lr = diagnose(rec, members, spec, card, explain=())
    assert learned["y"] == [c.replace("_", " ") for c in LEARNED_STATEMENTS]
    np.testing.assert_allclose(_values(learned["x"]), lr.probability, atol=1e-6)
    bars = charts[1]["data"][0]
    assert bars["type"] == "bar" and bars["y"] == [c.replace("_", " ") for c in DIAGNOSIS_CLASSES]
    # the bars are the library's read of the same record (same seeds), whiskers its spread
    members, spec, card = load_multimodal(ROOT / "weights" / "multimodal_ludb.pt")
    dx = diagnose(rec, members, spec, card, mc_samples=30, explain=())
    np.testing.assert_allclose(_values(bars["x"]), dx.probability, atol=1e-6)
    np.testing.assert_allclose(_values(bars["error_x"]["array"]), dx.spread, atol=1e-6)
    assert "attention rollout" in charts[3]["layout"]["title"]["text"]
    assert [b.proto.label for b in at.get("download_button")] == ["Report (PDF)", "Report (HTML)"]
    # the PQRST page's measurements, shown here too: record 1 is a sinus bradycardia (about 46 bpm)
    table = next(d.value for d in at.dataframe if "measurement" in d.value.columns).set_index("measurement")
    assert 40 <= table.loc["Heart rate", "value"] <= 55 and 60 <= table.loc["QRS duration", "value"] <= 120
    # the measured QRS axis (27°) settles "axis deviation": the model's 0.76 is shown and said to disagree
    found = next(d.value for d in at.dataframe if "finding" in d.value.columns).set_index("finding")
    assert found.loc["axis deviation", "status"] == "absent (measured)"
    assert any("Axis deviation: absent by measurement" in w.value and "disagreed" in w.value for w in at.warning)


def _table(at: AppTest, column: str):
    """The page's first table with ``column`` (tables are found by what they hold, not by position)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _values(v):
    """Plotly JSON arrays arrive as lists or as typed-array dicts ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


@needs_mm
def test_diagnosis_12_lead_needs_twelve_leads(mitdb):
    at = _open("app_pages/diagnosis.py", "100", mitdb)
    assert not at.exception
    assert any("needs the 12 standard leads" in i.value for i in at.info)


@needs_weights
def test_diagnosis_lists_the_statements_first_each_with_its_evidence(ludb):
    """LUDB 24 (complete LBBB by its cardiologists): the statements come before the 12-lead model, each
    expander holds its criterion, source and values."""
    from app_pages._common import record_key
    from ecg_core.data.ludb import load_ludb

    rec, _ = load_ludb("24", true_scale=True)
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.session_state["record"] = rec
    at.session_state["record_key"] = record_key(rec)
    at.switch_page("app_pages/diagnosis.py").run()
    assert not at.exception
    heads = [h.value for h in at.subheader]
    assert heads[0] == "Interpretation" and heads.index("Interpretation") < heads.index("12-lead diagnosis")
    labels = [e.label for e in at.expander]
    assert "**Complete left bundle branch block**" in labels
    lbbb = at.expander[labels.index("**Complete left bundle branch block**")]
    text = " ".join(m.value for m in lbbb.markdown)
    assert "QRS" in text and ">= 120" in text and "Surawicz" in text and "criterion" in text
    assert any("Unconfirmed" in c.value for c in at.caption)
