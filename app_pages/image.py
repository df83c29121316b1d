"""Image: a photo or scan of a paper ECG (or the current record printed) read back into a record."""

import hashlib
import secrets

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages._common import delineator, init_state, keypoint_model, panel_model, set_record
from ecg_core.data.keypoints import KEYPOINTS
from ecg_core.errors import ECGError
from ecg_core.io.image_io import IMAGE_EXTENSIONS, read_image
from ecg_core.predict import weights_path
from ecg_core.viz import ecg_paper_figure

init_state()
KP_COLOURS = ("#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#17becf")  # P, Q, R, S, T
st.title("Image")
st.caption("Upload a photo or scan of a printed ECG (the 3 × 4 + rhythm strip format, or one strip per lead, on "
           "standard paper: 25 mm/s, 10 mm/mV). The grid gives the scale; each lead is traced back to millivolts.")


@st.cache_data(max_entries=4, show_spinner="Reading the ECG in the image...")
def _digitise(key: str, _image: np.ndarray):
    from ecg_core.digitize import digitize

    return digitize(_image)


@st.cache_data(max_entries=4, show_spinner="Finding beats and their P, Q, R, S, T points...")
def _keypoints(key: str, how: str, _image: np.ndarray, _read):
    from ecg_core.predict.keypoints import detect_page, digitised_objects, hybrid_page

    if how == TRACE:
        return digitised_objects(_image, delineator(), read=_read)
    model, spec, _ = keypoint_model()
    if how == HYBRID:
        return hybrid_page(model, spec, _image, delineator(), read=_read)
    return detect_page(model, spec, _image)


HYBRID, DETR, TRACE = "ViT-DETR on the delineated trace", "ViT-DETR alone", "delineated trace alone"
HELD_OUT = {HYBRID: "held_out_hybrid", DETR: "held_out_renders", TRACE: "held_out_digitised"}


@st.cache_data(max_entries=4, show_spinner="Finding lead panels (Mask R-CNN)...")
def _panels(key: str, _image: np.ndarray):
    from ecg_core.predict.panels import detect_page_panels

    model, spec, _ = panel_model()
    return detect_page_panels(model, spec, _image)


@st.cache_data(max_entries=4, show_spinner="Printing the record...")
def _print(key: str, _record) -> np.ndarray:
    from ecg_core.data.render import RenderStyle, render_record

    return render_record(_record, style=RenderStyle(dpi=200)).image


src_upload, src_print = st.tabs(["Upload", "Print the current record"])
with src_upload:
    up = st.file_uploader("ECG image or PDF (first page)", key="img_upload",  # any type: refusals are messages
                          help="Read here: " + ", ".join(IMAGE_EXTENSIONS) + ". Other files are refused with the "
                               "reason.")
    if up is not None:
        sig = (up.name, up.size)
        if st.session_state.get("img_loaded") != sig:
            st.session_state["img_loaded"] = sig
            try:
                st.session_state["img"] = (up.name, read_image(up.getvalue(), up.name))
                st.session_state.pop("img_error", None)
            except ECGError as exc:
                st.session_state["img_error"] = str(exc)
with src_print:
    rec_now = st.session_state["record"]
    st.write(f"Print the first 10 s of **{rec_now.name}** on ECG paper at 200 dpi and read it back: a check of the "
             "digitiser against a known signal.")
    if st.button("Print and read", key="img_print"):
        st.session_state["img"] = (f"{rec_now.name} (printed)", _print(st.session_state["record_key"], _record=rec_now))
        st.session_state.pop("img_error", None)

if "img_error" in st.session_state:
    st.error(st.session_state["img_error"], icon="🚫")
if "img" not in st.session_state:
    st.info("No image yet: upload one, or print the current record.")
    st.stop()

name, image = st.session_state["img"]
# cache key of this image's results, salted per session like record_key: never served to another session
salt = st.session_state.setdefault("_cache_salt", secrets.token_hex(8))
key = hashlib.sha1(salt.encode() + image.tobytes()).hexdigest()[:16]
try:
    dig = _digitise(key, _image=image)
except ECGError as exc:
    st.error(f"{name}: {exc}", icon="🚫")
    st.stop()

m = st.columns(4)
m[0].metric("Scale", f"{dig.px_per_mm:.2f} px/mm")
m[1].metric("Tilt corrected", f"{dig.rotation_deg:+.1f}°")
m[2].metric("Format", {"3x4": "3 × 4 + rhythm", "strips": "strips"}[dig.layout])
m[3].metric("Leads read", f"{len({p.lead for p in dig.panels})}")

fig = go.Figure(go.Image(z=image, hoverinfo="skip"))
for p in dig.panels:
    x0, y0, x1, y1 = p.box
    fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color="#1f77b4", width=1))
    fig.add_annotation(x=x0 + 4, y=y0 + 4, text=p.lead, showarrow=False, xanchor="left", yanchor="top",
                       font=dict(color="#1f77b4", size=11))
pn_card = None
if weights_path("panels_maskrcnn.pt").exists() and st.toggle("Lead panels and traces (Mask R-CNN)", False,
                                                              key="img_pn"):
    try:
        _, _, pn_card = panel_model()
        pn = _panels(key, _image=image)
    except (ECGError, OSError, ValueError) as exc:  # a weights file that fails its check
        st.error(f"The panel model could not run: {exc}", icon="🚫")
        pn_card = None
    else:
        from PIL import Image

        overlay = np.zeros((*pn.masks.shape[1:], 4), np.uint8)  # at the model's size, stretched over the image
        if len(pn):
            overlay[pn.masks.any(axis=0)] = (255, 127, 14, 200)
        fig.add_layout_image(source=Image.fromarray(overlay), x=0, y=0, sizex=image.shape[1], sizey=image.shape[0],
                             xref="x", yref="y", layer="above", sizing="stretch")
        for (x0, y0, x1, y1), lead in zip(pn.boxes, pn.leads):
            fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color="#ff7f0e", width=1, dash="dash"))
            fig.add_annotation(x=x1 - 4, y=y0 + 4, text=lead, showarrow=False, xanchor="right", yanchor="top",
                               font=dict(color="#ff7f0e", size=11))
kp_card = None
if weights_path("keypoints_detr.pt").exists() and st.toggle("Beat keypoints (ViT-DETR)", True, key="img_kp"):
    kp_how = st.radio("Keypoints from", (DETR, HYBRID, TRACE), horizontal=True, key="img_kp_how",
                      help="ViT-DETR alone: the detector and its keypoint refiner read the image (the best on "
                           "photographs). Hybrid: each detected P, Q, R, S, T point moves onto the point the learned "
                           "delineator marks on the digitised trace (within 120 ms); where the two agree on most R "
                           "peaks, the delineator's other beats are added too. The delineated trace alone is the "
                           "most exact on clean prints and the least on photographs.")
    try:
        _, _, kp_card = keypoint_model()
        kp = _keypoints(key, kp_how, _image=image, _read=dig)
    except (ECGError, OSError, ValueError) as exc:  # a weights file that fails its check
        st.error(f"The keypoint detector could not run: {exc}", icon="🚫")
        kp_card = None
    else:
        for j, (kname, colour) in enumerate(zip(KEYPOINTS, KP_COLOURS)):
            pts = kp.kps[kp.vis[:, j], j]
            fig.add_scatter(x=pts[:, 0].tolist(), y=pts[:, 1].tolist(), mode="markers", name=kname, hoverinfo="name",
                            marker=dict(color=colour, size=6, symbol="circle-open", line=dict(width=2)))
fig.update_layout(height=420, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(visible=False),
                  yaxis=dict(visible=False, scaleanchor="x"), legend=dict(orientation="h", y=1.02, x=0))
st.plotly_chart(fig, key="img_panels")
st.caption(f"{name}: lead panels found (the tilt is undone before reading; scale from the {dig.scale_from}).")
if pn_card is not None:
    pr = pn_card.get("held_out_panels", {}).get("clean")
    how = (f" On held-out LUDB renders it finds {100 * pr['maskrcnn_layout']['recall']:.0f} % of panels with leads "
           f"from the page layout ({100 * pr['maskrcnn']['recall']:.0f} % by its own lead classes, "
           f"{100 * pr['maskrcnn']['precision']:.0f} % of which are right).") if pr else ""
    st.caption(f"Mask R-CNN (dashed, orange; its trace masks shaded): {len(pn)} panels.{how} The trace is "
               "read by the digitiser.")
if kp_card is not None:
    hybrid = kp_how == HYBRID
    held = kp_card.get(HELD_OUT[kp_how], kp_card["held_out_renders"])
    r = held["clean"]["keypoints"]["R"]
    agree = ""
    if hybrid:
        agree = (f" (the two agreed on {100 * kp.agreement:.0f} % of R peaks)" if np.isfinite(kp.agreement) else
                 " (the digitised trace gave no 12-lead beats to place them on: the detector's points as found)")
    ph = held.get("photo", {}).get("keypoints", {}).get("R")
    photo = f"; on photographed renders R F1 {ph['f1']:.2f}" if ph else ""
    st.caption(f"Beat keypoints: {len(kp)} beats found across the leads{agree}. On held-out LUDB renders "
               f"this finds {100 * r['recall']:.0f} % of R peaks within 40 ms ({100 * r['precision']:.0f} % of its R "
               f"marks are right, F1 {r['f1']:.2f}{photo}); the traced signal below does not depend on it.")

record = dig.to_record(f"{name} (digitised)")
st.subheader("Read back")
st.plotly_chart(ecg_paper_figure(record, duration_s=min(10.0, record.duration_s)), key="img_paper")
if dig.layout == "3x4":
    win = record.metadata.get("printed windows s", {})
    st.caption("Each lead holds the 2.5 s it is printed for (zero elsewhere); lead II is the 10 s rhythm strip. " +
               ", ".join(f"{k} {a:.1f}–{b:.1f} s" for k, (a, b) in win.items()))
st.dataframe(pd.DataFrame([{"lead": p.lead, "from (s)": round(p.t0, 2), "to (s)": round(p.t1, 2),
                            "min (mV)": round(float(p.signal.min()), 2), "max (mV)": round(float(p.signal.max()), 2)}
                           for p in dig.panels]), hide_index=True, key="img_table")
if st.button("Use this record on every page", key="img_use", type="primary"):
    set_record(record, "image")
    st.success(f"{record.name} is now the current record (Signal, PQRST and Diagnosis pages).")
st.caption("Research software, not a medical device: a digitised trace is an approximation of the paper one.")
