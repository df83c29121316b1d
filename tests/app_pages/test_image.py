"""AppTest of the Image page: print the current record, read it back, hand it to every page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def test_image_page_prints_reads_back_and_hands_over_the_record():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/image.py").run()
    assert not at.exception
    assert any("No image yet" in i.value for i in at.info)
    at.button(key="img_print").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Format"] == "3 × 4 + rhythm" and metrics["Leads read"] == "12"
    assert float(metrics["Scale"].split()[0]) == __import__("pytest").approx(200 / 25.4, rel=1e-3)
    fig = __import__("json").loads(at.get("plotly_chart")[0].proto.spec)
    marks = {t["name"]: len(t["x"]) for t in fig["data"] if t.get("type") == "scatter"}
    assert set(marks) == {"P", "Q", "R", "S", "T"} and marks["R"] >= 20  # the shipped detector's beats
    # by default the detector's own points, with its held-out figures (fold 0: clean, then photographed)
    cap = next(c.value for c in at.caption if c.value.startswith("Beat keypoints:"))
    assert "agreed" not in cap and "F1 0.92" in cap and "photographed renders R F1 0.90" in cap, cap
    at.radio(key="img_kp_how").set_value("ViT-DETR on the delineated trace").run()
    assert not at.exception and not at.error
    cap = next(c.value for c in at.caption if c.value.startswith("Beat keypoints:"))
    assert "agreed on" in cap and "F1 0.92" in cap and "R F1 0.87" in cap, cap  # the hybrid: how well they agreed
    at.radio(key="img_kp_how").set_value("delineated trace alone").run()
    assert not at.exception and not at.error
    cap = next(c.value for c in at.caption if c.value.startswith("Beat keypoints:"))
    assert "F1 0.93" in cap, cap  # digitise, then delineate: held-out fold 0, clean renders
    fig = __import__("json").loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"]: len(t["x"]) for t in fig["data"] if t.get("type") == "scatter"}["R"] >= 20
    # the Mask R-CNN's panels and trace masks over the image, leads from the page layout
    at.toggle(key="img_pn").set_value(True).run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Mask R-CNN") and ": 13 panels." in c.value for c in at.caption)
    fig = __import__("json").loads(at.get("plotly_chart")[0].proto.spec)
    assert len(fig["layout"]["images"]) == 1 and len(fig["layout"]["shapes"]) == 2 * 13  # blue and orange boxes
    labels = sorted(a["text"] for a in fig["layout"]["annotations"] if a["font"]["color"] == "#ff7f0e")
    assert labels == sorted(["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "II"])
    table = at.dataframe[0].value
    assert list(table["lead"][:4]) == ["I", "aVR", "V1", "V4"] and len(table) == 13
    at.button(key="img_use").click().run()
    rec = at.session_state["record"]
    assert rec.name == "demo (printed) (digitised)" and rec.n_leads == 12 and rec.fs == 500.0
    assert at.session_state["record_source"] == "image"
    # the demo's lead II read back from its rhythm strip matches the demo's own lead II
    from ecg_core.data import demo_record
    from ecg_core.digitize import snr_db

    demo = demo_record()
    ii = demo.lead_names.index("II")
    n = min(rec.signal.shape[1], int(9.9 * demo.fs * rec.fs / demo.fs))
    import numpy as np

    truth = np.interp(np.arange(n) / rec.fs, np.arange(demo.signal.shape[1]) / demo.fs, demo.signal[ii])
    assert snr_db(truth, rec.signal[rec.lead_names.index("II"), :n]) > 12.0
