"""Diagnosis: the interpretive statements first, as a printout lists them, each with its evidence; then the
12-lead model's read (calibrated probabilities, uncertainty, gates, Grad-CAM, integrated gradients, attention
rollout) as supporting evidence, beat classes on the paper view, counts, rhythm summary, per-beat confidence,
and the read exported as a PDF or HTML report. The learned statements' probabilities (with their spread)
follow the statements they fused into."""

import numpy as np
import pandas as pd
import streamlit as st

from app_pages._common import (
    beat_model,
    cached_analysis,
    cached_beat_classes,
    cached_delineation,
    cached_diagnosis,
    cached_read,
    card_line,
    delineation_available,
    delineation_card,
    init_state,
    multimodal_model,
    statement_model,
)
from ecg_core.errors import ECGError
from ecg_core.findings import reconcile
from ecg_core.signal.ectopy import ectopy_summary
from ecg_core.viz import cam_strip_figure, diagnosis_figure, ecg_paper_figure, rollout_figure

init_state()
st.title("Diagnosis")
st.warning("Research software, not a medical device: beat classes are a model's output, not a diagnosis.",
           icon="⚠️")

rec = st.session_state["record"]
key = st.session_state["record_key"]
dx = None
models_used = []
# the measurements (learned delineator, the first 10 s the 12-lead model reads too) settle some findings
measurements, meas_error = None, None
if delineation_available():
    try:
        _, dl = cached_delineation(key, "unet", 0.0, 10.0, _record=rec)
        sex = (rec.metadata or {}).get("sex")
        measurements = dl.measure(sex=sex if sex in ("M", "F") else None)
    except ECGError as exc:
        meas_error = exc
the_read = None
if delineation_available():
    st.subheader("Interpretation")
    try:
        the_read = cached_read(key, 10.0, _record=rec)
    except ECGError as exc:
        st.info(f"No interpretation: {exc}")
    else:
        st.caption("Unconfirmed — requires physician review. Statements from criteria of the standards on the "
                   "measurements of the first 10 s (learned delineator, median beats) and from the learned "
                   "statement model (source \"model\"); open one for its evidence.")
        left, right = st.columns([3, 2])
        with left:
            for s in the_read.interpretation.statements:
                where = f" ({', '.join(s.leads)})" if s.leads else ""
                with st.expander(f"**{s.text}**{where}", expanded=False):
                    st.markdown(f"{s.evidence}  \n*Criterion source:* {s.reference}  \n*From:* {s.source}"
                                + (f", confidence {s.confidence:.2f}" if s.confidence is not None else ""))
                    shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in s.values.items()}
                    if shown:
                        st.dataframe(pd.DataFrame([shown]), hide_index=True, key=f"dx_st_{s.code}")
        with right:
            st.dataframe(pd.DataFrame(the_read.measurements.table()), hide_index=True, key="dx_st_measurements")
        lr = the_read.learned
        if lr is not None:
            models_used.append(card_line(statement_model()[2], "learned statements"))
            st.plotly_chart(diagnosis_figure(lr.classes, lr.probability, lr.spread, lr.uncertain),
                            key="dx_learned")
            st.caption(f"Learned statements: calibrated probability (mean of {lr.n_members} fold models × "
                       f"{lr.mc_samples} MC-dropout samples) and its spread; a statement is made at 0.5, "
                       "\"Possible\" when uncertain. Trained on LUDB's cardiologists' conclusions.")
    st.divider()

mm = multimodal_model()
if mm is not None:
    st.subheader("12-lead diagnosis")
    want_ig = st.toggle("Integrated gradients too (about 1 s more)", key="dx_ig")
    explain = ("grad_cam", "rollout", "integrated_gradients") if want_ig else ("grad_cam", "rollout")
    try:
        dx = cached_diagnosis(key, explain, _record=rec)
    except ECGError as exc:
        st.info(str(exc))
    else:
        mm_card = mm[2]
        models_used.append(card_line(mm_card, "12-lead diagnosis"))
        st.plotly_chart(diagnosis_figure(dx.classes, dx.probability, dx.spread, dx.uncertain),
                        key="dx_12lead")
        found = reconcile(dx, measurements)
        flagged = [f.label for f in found if f.status.startswith("uncertain")]
        if flagged:
            st.warning("Uncertain — needs review: " + ", ".join(flagged), icon="🔎")
        st.dataframe(pd.DataFrame([{"finding": f.label, "probability": round(f.probability, 2),
                                    "SD": round(f.sd, 2), "status": f.status, "measured": f.evidence}
                                   for f in found]), hide_index=True, key="dx_findings")
        for f in found:
            if f.model_disagrees:
                st.warning(f.sentence(), icon="⚖️")
        top = dx.classes[dx.cam_class].replace("_", " ")
        left, right = st.columns([3, 1])
        with left:
            if "II" in rec.lead_names:
                ii = rec.crop(0, 10.0)
                if dx.cam is not None:
                    st.plotly_chart(cam_strip_figure(ii.lead("II"), ii.fs, dx.cam, dx.cam_fs, top),
                                    key="dx_cam")
                if dx.ig is not None:  # |IG| of lead II (index 1 of the standard order), scaled to [0, 1]
                    a = np.abs(dx.ig[1])
                    st.plotly_chart(cam_strip_figure(ii.lead("II"), ii.fs, a / max(a.max(), 1e-12), dx.cam_fs, top,
                                                     method="integrated gradients"), key="dx_ig_strip")
        with right:
            if dx.rollout is not None:
                st.plotly_chart(rollout_figure(dx.image, dx.rollout, top), key="dx_rollout")
        g = dx.gates
        st.caption(f"Bars: probability (mean of {dx.n_members} fold models × {dx.mc_samples} MC-dropout "
                   "samples, temperature-scaled); whiskers: ± 1 SD of the samples. Modality gates: " +
                   ", ".join(f"{k} {v:.2f}" for k, v in g.items()) +
                   ". The model reads the first 10 s; trained on LUDB (200 records).")
        st.page_link("app_pages/models.py", label=f"Model card: {mm_card.get('file', '')}",
                     icon=":material/description:")
    st.divider()

mode = st.radio("Beat model", ["diagnostic", "realtime"], horizontal=True, key="dx_mode",
                format_func=lambda m: {"diagnostic": "Diagnostic (uses the next beat)",
                                       "realtime": "Real-time (causal)"}[m])
loaded = beat_model(mode)
summary = None
if loaded is None:
    st.info(f"No usable {mode} beat model (weights/beat_{mode}.pt): beat classes are not shown.")
else:
    _, spec, card = loaded
    low, high, notch_hz = st.session_state.get("filter", (0.5, 40.0, None))  # as set on the Signal page
    res = cached_analysis(key, low, high, notch_hz, _record=rec)
    try:
        bc = cached_beat_classes(key, mode, _analysis=res)
    except ECGError as exc:
        st.error(str(exc))
        bc = None
    if bc is not None:
        models_used.append(card_line(card, f"beat classes ({mode})"))
        summary = ectopy_summary(bc.labels)
        cols = st.columns(5)
        for col, c in zip(cols, bc.classes):
            col.metric(f"{c} beats", summary.counts[c])
        st.caption("N normal/bundle-branch · S supraventricular ectopic · V ventricular ectopic · F fusion · "
                   "Q unclassifiable (AAMI classes).")

        st.subheader("Rhythm summary")
        st.dataframe(pd.DataFrame([{"origin": o, "burden (%)": round(summary.burden_pct[o], 2),
                                    "couplets": summary.couplets[o], "runs (≥3)": summary.runs[o],
                                    "longest run": summary.longest_run[o],
                                    "bigeminy episodes": summary.bigeminy_episodes[o],
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
        if bc.by_rule is not None:
            table["source"] = np.where(bc.by_rule, "premature-beat rule", "model")
        for i, c in enumerate(bc.classes):
            table[f"p({c})"] = bc.probs[:, i].round(3)
        if "label" in res.beats and res.beats["label"].ne("").any():
            table["reference"] = res.beats["label"]
        st.dataframe(table, hide_index=True, height=300, key="dx_beats")
        cv = card.get("cv_ds1", {}).get("cv_pooled", {})
        ds2 = card.get("ds2_s_rule", {}) if bc.by_rule is not None else card.get("ds2", {})
        rule = (f" {int(bc.by_rule.sum())} beat(s) the model called N are S by the premature-beat rule (at least "
                "15 % early, the record's usual QRS, a regular rhythm around them; no probability)."
                if bc.by_rule is not None else "")
        st.caption(f"Model `{card['file']}` ({card['architecture']}, {mode}"
                   f"{' + premature-beat rule' if bc.by_rule is not None else ''}); DS1 cross-validated macro-F1 "
                   f"{cv.get('macro_f1_nsvf', float('nan')):.3f} (model alone)" +
                   (f", MIT-BIH DS2 macro-F1 {ds2['macro_f1_nsvf']:.3f}, S F1 {ds2['S']['f1']:.2f}." if ds2 else ".")
                   + rule)

# the measurements of the PQRST page (learned delineator, first 10 s), then the report of the whole read
if delineation_available():
    st.subheader("Measurements")
    if meas_error is not None:
        st.info(f"No measurements: {meas_error}")
    else:
        models_used.append(card_line(delineation_card(), "delineation"))
        if measurements.n_beats:
            st.dataframe(pd.DataFrame(measurements.table()), hide_index=True, key="dx_measurements")
            st.caption("First 10 s, learned delineator; flags: " + ("; ".join(measurements.flags) or "none") +
                       ". The PQRST page shows the marks, other QTc formulas and the median beats.")
        else:
            st.info("No QRS complex was found in the first 10 s: no intervals to measure.")

st.subheader("Report")


def _report():
    from ecg_core.report import build_report

    return build_report(rec, diagnosis=dx, measurements=measurements, ectopy=summary, models=models_used,
                        interpretation=None if the_read is None else the_read.interpretation)


def _pdf() -> bytes:
    from ecg_core.report import report_pdf

    return report_pdf(_report())


def _html() -> str:
    from ecg_core.report import report_html

    return report_html(_report())


stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in rec.name)[:60] or "record"
c1, c2, _ = st.columns([1, 1, 3])
c1.download_button("Report (PDF)", _pdf, file_name=f"ecg_read_{stem}.pdf", mime="application/pdf",
                   key="dx_report_pdf", icon=":material/picture_as_pdf:")
c2.download_button("Report (HTML)", _html, file_name=f"ecg_read_{stem}.html", mime="text/html",
                   key="dx_report_html", icon=":material/code:")
st.caption("The report holds a printout's header (key measurements, the statements, unconfirmed), the tracing "
           "(first 10 s on ECG paper), each statement's evidence, the interval measurements, the 12-lead "
           "findings with their spread, the beat classes and rhythm summary, and the version (sha256) of every "
           "model used.")
