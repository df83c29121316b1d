"""Signal: load a record (upload, database, demo), filter it, see it on ECG paper with its beats."""

import pandas as pd
import streamlit as st

from app_pages._common import cached_analysis, cached_wfdb_zip, init_state, set_record
from ecg_core.data import demo_record
from ecg_core.errors import ECGError
from ecg_core.io import SUPPORTED_EXTENSIONS, find_records, load_record
from ecg_core.io.records import record_path
from ecg_core.viz import aux_figure, ecg_paper_figure, overview_figure

init_state()

st.title("Signal")

# ---- choose a record -------------------------------------------------------------------------------
src_upload, src_db, src_demo = st.tabs(["Upload", "Database", "Demo"])
with src_upload:
    files = st.file_uploader(
        "ECG file(s): a WFDB header with its .dat (and .atr), or one CSV / EDF / NumPy / zip file",
        accept_multiple_files=True, key="sig_upload",  # any type: a refusal is a message, not a tooltip
        help="Read here: " + ", ".join(SUPPORTED_EXTENSIONS) + ". Other files are refused with the reason.")
    c1, c2 = st.columns(2)
    fs_in = c1.number_input("Sampling rate (Hz), for files that do not store it", min_value=0.0,
                            value=0.0, step=50.0, key="sig_fs", help="0 = take it from the file")
    units_in = c2.selectbox("Units of CSV/NumPy values", ["mV", "uV", "V"], key="sig_units")
    if files and not any(f.name.lower().endswith(".hea") for f in files):
        files = files[-1:]  # not a WFDB set: read the file added last
    if files:
        sig = tuple((f.name, f.size) for f in files) + (fs_in, units_in)
        if st.session_state.get("sig_loaded_upload") != sig:
            st.session_state["sig_loaded_upload"] = sig
            try:
                rec = load_record(files, fs=fs_in or None, units=units_in)
            except ECGError as exc:
                st.session_state["sig_error"] = str(exc)
            else:
                st.session_state.pop("sig_error", None)
                set_record(rec, "upload")
with src_db:
    dbs = find_records()
    if not dbs:
        st.info("No database found: set ECG_DATA_DIR to a folder holding mitdb/, ludb/, ... "
                "(`python -m ecg_core data download mitdb` fetches one).")
    else:
        c1, c2, c3 = st.columns([1, 1, 1])
        db = c1.selectbox("Database", list(dbs), key="sig_db")
        name = c2.selectbox("Record", dbs[db], key="sig_db_record")
        if c3.button("Open", key="sig_db_open"):
            try:
                set_record(load_record(record_path(db, name)), f"{db}/{name}")
                st.session_state.pop("sig_error", None)
            except ECGError as exc:
                st.session_state["sig_error"] = str(exc)
with src_demo:
    if st.button("Open the demo record", key="sig_demo"):
        set_record(demo_record(), "demo")
        st.session_state.pop("sig_error", None)

if "sig_error" in st.session_state:
    st.error(f"{st.session_state['sig_error']} The previous record is still shown.", icon="🚫")

rec = st.session_state["record"]
for w in rec.warnings:
    st.warning(w)

# ---- filter ----------------------------------------------------------------------------------------
with st.expander("Filter", expanded=False):
    c1, c2, c3 = st.columns(3)
    low = c1.number_input("High-pass (Hz)", 0.0, 5.0, 0.5, 0.1, key="sig_low")
    high = c2.number_input("Low-pass (Hz)", 0.0, 150.0, 40.0, 5.0, key="sig_high", help="0 = off")
    notch = c3.selectbox("Mains notch", ["off", "50 Hz", "60 Hz"], key="sig_notch")
st.session_state["filter"] = (low or None, high or None, None if notch == "off" else float(notch.split()[0]))
res = cached_analysis(st.session_state["record_key"], *st.session_state["filter"], _record=rec)
for a, b in res.not_analysable:
    st.warning(f"Not analysable {a:.1f}–{b:.1f} s: no lead holds usable ECG there (see Lead quality); no beats "
               "are counted there and no RR interval spans it.", icon="⚠️")

# ---- summary ---------------------------------------------------------------------------------------
hr = res.heart_rate
m = st.columns(6)
m[0].metric("Heart rate", f"{hr.mean_bpm:.0f} bpm" if hr.n_beats > 1 else "–")
m[1].metric("Min / max", f"{hr.min_bpm:.0f} / {hr.max_bpm:.0f}" if hr.n_beats > 1 else "–")
m[2].metric("Beats", f"{hr.n_beats}")
m[3].metric("Duration", f"{rec.duration_s:.1f} s")
m[4].metric("Leads", f"{rec.n_leads}")
m[5].metric("Sampling", f"{rec.fs:g} Hz")
rr = f"RR mean {hr.rr_mean_s:.3f} s (SD {hr.rr_sd_s:.3f} s). " if hr.n_beats > 1 else ""
st.caption(f"{rr}Record **{rec.name}** ({st.session_state['record_source']}); beats detected by `{res.method}` "
           f"on lead {res.rhythm_lead} first. Filter {low or 'off'}–{high or 'off'} Hz, notch {notch}.")

# ---- paper view ------------------------------------------------------------------------------------
win_s = 10.0
start = 0.0
if rec.duration_s > win_s + 0.5:
    start = st.slider("Window start (s)", 0.0, float(rec.duration_s - win_s), 0.0, 1.0, key="sig_start")
    st.plotly_chart(overview_figure(rec, res.filtered, lead=rec.lead_names.index(res.rhythm_lead),
                                    window=(start, start + win_s), r_idx=res.r_idx), key="sig_overview")
labels = [lab or "beat" for lab in res.beats["label"]]
st.plotly_chart(ecg_paper_figure(rec, res.filtered, r_idx=res.r_idx, beat_labels=labels, start_s=start,
                                 duration_s=win_s), key="sig_paper", config={"scrollZoom": True})
aux_fig = aux_figure(rec, start_s=start, duration_s=win_s)
if aux_fig is not None:
    st.caption("Other channels of the file (not ECG; shown, never analysed): "
               + ", ".join(f"{a.name} ({a.unit or 'no unit'}, {a.fs:g} Hz)" for a in rec.aux) + ".")
    st.plotly_chart(aux_fig, key="sig_aux")

# ---- quality and beats -----------------------------------------------------------------------------
c1, c2 = st.columns([1, 2])
with c1:
    st.subheader("Lead quality")
    st.dataframe(pd.DataFrame([{"lead": q.lead, "quality": q.label, "score": round(q.score, 2),
                                "noise (mV)": round(q.noise_mv, 3), "left out": q.detail} for q in res.quality]),
                 hide_index=True, key="sig_quality")
    if any(q.stretches for q in res.quality):
        st.caption("Stretches left out of beat detection (flat, saturated or artefact); the other leads were "
                   "read there.")
with c2:
    st.subheader("Beats")
    st.dataframe(res.beats, hide_index=True, height=260, key="sig_beats")
    d1, d2 = st.columns(2)
    d1.download_button("Beats as CSV", res.beats.to_csv(index=False), f"{rec.name}_beats.csv", "text/csv",
                       key="sig_dl_csv")
    d2.download_button("Record + beats as WFDB (zip)", cached_wfdb_zip(st.session_state["record_key"], _analysis=res),
                       f"{rec.name}_wfdb.zip", "application/zip", key="sig_dl_wfdb")
st.caption("Research software, not a medical device.")
