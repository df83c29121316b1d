"""Diagnosis: the 12-lead read (calibrated probabilities, uncertainty, gates, Grad-CAM), then beat classes on
the paper view, counts, rhythm summary and per-beat confidence."""

import pandas as pd
import streamlit as st

from ecg_core.errors import ECGError
from ecg_core.signal.ectopy import ectopy_summary
from ecg_core.viz import cam_strip_figure, diagnosis_figure, ecg_paper_figure
from pages._common import (
    beat_model,
    cached_analysis,
    cached_beat_classes,
    cached_diagnosis,
    init_state,
    multimodal_model,
)

init_state()
st.title("Diagnosis")
st.warning("Research software, not a medical device: beat classes are a model's output, not a diagnosis.",
           icon="⚠️")

rec = st.session_state["record"]
if multimodal_model() is not None:
    st.subheader("12-lead diagnosis")
    try:
        dx = cached_diagnosis(st.session_state["record_key"], _record=rec)
    except ECGError as exc:
        st.info(str(exc))
    else:
        st.plotly_chart(diagnosis_figure(dx["classes"], dx["probability"], dx["spread"], dx["uncertain"]),
                        key="dx_12lead")
        flagged = [c for c, u in zip(dx["classes"], dx["uncertain"]) if u]
        if flagged:
            st.warning("Uncertain — needs review: " + ", ".join(flagged), icon="🔎")
        if dx["cam"] is not None and "II" in rec.lead_names:
            ii = rec.crop(0, 10.0)
            st.plotly_chart(cam_strip_figure(ii.lead("II"), ii.fs, dx["cam"], dx["cam_fs"],
                                             dx["classes"][dx["cam_class"]].replace("_", " ")), key="dx_cam")
        g = dx["gates"]
        st.caption("Bars: probability (mean of five fold models, temperature-scaled, with MC dropout); whiskers: "
                   "± 1 SD of the samples. Modality gates: " + ", ".join(f"{k} {v:.2f}" for k, v in g.items()) +
                   ". The model reads the first 10 s; trained on LUDB (200 records); see the Models page for "
                   "its card.")
    st.divider()

mode = st.radio("Beat model", ["diagnostic", "realtime"], horizontal=True, key="dx_mode",
                format_func=lambda m: {"diagnostic": "Diagnostic (uses the next beat)",
                                       "realtime": "Real-time (causal)"}[m])
loaded = beat_model(mode)
if loaded is None:
    st.info(f"No {mode} beat model is shipped yet (weights/beat_{mode}.pt).")
    st.stop()
_, spec, card = loaded
low, high, notch_hz = st.session_state.get("filter", (0.5, 40.0, None))  # as set on the Signal page
res = cached_analysis(st.session_state["record_key"], low, high, notch_hz, _record=rec)
try:
    bc = cached_beat_classes(st.session_state["record_key"], mode, _analysis=res)
except ECGError as exc:
    st.error(str(exc))
    st.stop()

summary = ectopy_summary(bc.labels)
cols = st.columns(5)
for col, c in zip(cols, bc.classes):
    col.metric(f"{c} beats", summary.counts[c])
st.caption("N normal/bundle-branch · S supraventricular ectopic · V ventricular ectopic · F fusion · "
           "Q unclassifiable (AAMI classes).")

st.subheader("Rhythm summary")
st.dataframe(pd.DataFrame([{"origin": o, "burden (%)": round(summary.burden_pct[o], 2),
                            "couplets": summary.couplets[o], "runs (≥3)": summary.runs[o],
                            "longest run": summary.longest_run[o], "bigeminy episodes": summary.bigeminy_episodes[o],
                            "trigeminy episodes": summary.trigeminy_episodes[o]} for o in ("V", "S")]),
             hide_index=True, key="dx_summary")

win_s = 10.0
start = 0.0
if rec.duration_s > win_s + 0.5:
    start = st.slider("Window start (s)", 0.0, float(rec.duration_s - win_s), 0.0, 1.0, key="dx_start")
st.plotly_chart(ecg_paper_figure(rec, res.filtered, r_idx=res.r_idx, beat_labels=bc.labels, start_s=start,
                                 duration_s=win_s), key="dx_paper")

st.subheader("Beats")
table = res.beats[["beat", "time_s", "rr_s"]].copy()
table["class"] = bc.labels
table["confidence"] = bc.confidence.round(3)
for i, c in enumerate(bc.classes):
    table[f"p({c})"] = bc.probs[:, i].round(3)
if "label" in res.beats and res.beats["label"].ne("").any():
    table["reference"] = res.beats["label"]
st.dataframe(table, hide_index=True, height=300, key="dx_beats")
cv = card.get("cv_ds1", {}).get("cv_pooled", {})
ds2 = card.get("ds2", {})
st.caption(f"Model `{card['file']}` ({card['architecture']}, {mode}); DS1 cross-validated macro-F1 "
           f"{cv.get('macro_f1_nsvf', float('nan')):.3f}" +
           (f", MIT-BIH DS2 macro-F1 {ds2['macro_f1_nsvf']:.3f}." if ds2 else "."))
