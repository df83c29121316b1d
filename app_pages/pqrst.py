"""PQRST: wave marks on the paper view, median beats, intervals with flags, classical vs learned."""

import numpy as np
import pandas as pd
import streamlit as st

from app_pages._common import cached_delineation, delineation_available, init_state
from ecg_core.errors import ECGError
from ecg_core.signal.delineation import BEAT_COLUMNS, compare_delineations
from ecg_core.signal.intervals import QTC_FORMULAS
from ecg_core.viz import add_wave_overlay, ecg_paper_figure, median_beat_figure

init_state()
st.title("PQRST")
st.warning("Research software, not a medical device: marks and intervals are measured by software; a "
           "clinician reads the tracing.", icon="⚠️")

rec = st.session_state["record"]
METHODS = {"unet": "Learned (U-Net, LUDB)", "neurokit_dwt": "Classical (NeuroKit2 wavelet)"}
methods = [m for m in METHODS if m != "unet" or delineation_available()]
c1, c2, c3 = st.columns([2, 2, 1])
method = c1.radio("Method", methods, format_func=METHODS.get, horizontal=True, key="pq_method")
compare = c2.checkbox("Show where the other method disagrees", key="pq_compare", disabled=len(methods) < 2)
formula = c3.selectbox("QTc formula", list(QTC_FORMULAS), key="pq_formula")

win_s = 10.0
start = 0.0
if rec.duration_s > win_s + 0.5:
    start = st.slider("Window start (s)", 0.0, float(rec.duration_s - win_s), 0.0, 1.0, key="pq_start")
    st.caption(f"Long record: the {win_s:.0f} s window from {start:.0f} s is delineated and measured.")
try:
    crop, d = cached_delineation(st.session_state["record_key"], method, start, win_s, _record=rec)
except ECGError as exc:
    st.error(str(exc))
    st.stop()

for w in d.warnings:
    st.info(w)
c1, c2 = st.columns(2)
kinds = c1.multiselect("Waves", ["P", "QRS", "T"], default=["P", "QRS", "T"], key="pq_waves")
leads = c2.multiselect("Leads", list(crop.lead_names), default=list(crop.lead_names), key="pq_leads")
fig = ecg_paper_figure(crop, d.signal, duration_s=win_s)
add_wave_overlay(fig, crop, d.waves, d.signal, duration_s=win_s, kinds=tuple(kinds), leads=leads,
                 label="learned" if method == "unet" else "classical")
other = None
if compare and len(methods) == 2:
    other_method = [m for m in methods if m != method][0]
    try:
        _, other = cached_delineation(st.session_state["record_key"], other_method, start, win_s, _record=rec)
        add_wave_overlay(fig, crop, other.waves, d.signal, duration_s=win_s, kinds=tuple(kinds), leads=leads,
                         label="learned" if other_method == "unet" else "classical", spans=False,
                         marker="x")
    except ECGError as exc:
        st.info(f"The other method could not run: {exc}")
st.plotly_chart(fig, key="pq_paper")

sex_meta = str(rec.metadata.get("sex", "") or "").upper()[:1]
age = rec.metadata.get("age")
from_file = f"the file says {'female' if sex_meta == 'F' else 'male'}" if sex_meta in ("M", "F") else "not in the file"
sex = st.radio(f"Sex (QTc limits 450 / 460 ms; {from_file})", ["M", "F", "unknown"], horizontal=True,
               key=f"pq_sex_{st.session_state['record_key']}",  # a new record starts from its own header
               index={"M": 0, "F": 1}.get(sex_meta, 2))
if age is not None:
    st.caption(f"Age {age} (from the file).")
m = d.measure(sex=None if sex == "unknown" else sex, formula=formula)
if m.n_beats == 0:
    st.info("No QRS complex was found in this window: no intervals to measure.")
    st.stop()

st.subheader("Measurements")
c1, c2 = st.columns([3, 2])
table = pd.DataFrame(m.table(formula))
table["value"] = table["value"].map(lambda v: "—" if v is None else v)
c1.dataframe(table, hide_index=True, key="pq_table")
c1.caption(f"Median over {m.n_beats} beats; global onsets/offsets across leads (15th/85th percentile). "
           "QTc: " + ", ".join(f"{k} {v:.0f} ms" for k, v in m.qtc_ms.items() if v == v) + ". "
           "Paced rhythms: the learned delineator may start a QRS on the pacing spike (its QRS-onset error is three "
           "times larger on LUDB's paced records); read QRS onsets and QRS duration by eye there.")
with c2:
    if m.flags:
        for f in m.flags:
            st.warning(f, icon="🚩")
    else:
        st.success("No measurement outside its usual range.", icon="✅")

if m.median_beats is not None:
    st.subheader("Median beats")
    st.plotly_chart(median_beat_figure(m.median_beats, crop.fs, m.median_r0, crop.lead_names,
                                       m.median_fiducials), key="pq_median")
    st.caption("Dashed lines: global P onset/offset (green), QRS onset/offset (blue), T offset (purple).")

with st.expander("Per-beat marks of one lead"):
    lead_pick = st.selectbox("Lead", list(crop.lead_names), key="pq_beat_lead",
                             index=crop.lead_names.index("II") if "II" in crop.lead_names else 0)
    tab = d.beats(lead_pick)
    beats = pd.DataFrame(np.where(tab >= 0, np.round(tab / crop.fs * 1000.0), np.nan), columns=BEAT_COLUMNS)
    st.dataframe(beats, hide_index=True, height=240, key="pq_beats")
    st.caption("Times in ms from the window start; empty: absent (no P wave before a beat, no Q or S dip).")

if other is not None:
    st.subheader("Learned vs classical")
    st.dataframe(pd.DataFrame(compare_delineations(d, other)), hide_index=True, height=260, key="pq_disagree")
    st.caption("Per lead and wave: waves found by each method, pairs within 150 ms, and the mean distance "
               "of paired onsets/offsets. Largest disagreement first. Crosses and dotted ticks on the "
               "tracing are the other method's peaks and ends.")
