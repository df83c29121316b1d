"""Home: what the workbench does, the disclaimer, and the demo record."""

import streamlit as st

from app_pages._common import init_state, set_record
from ecg_core.data import demo_record

init_state()
st.title("ECG workbench")
st.markdown(
    """
Open an ECG and read it: the tracing on standard ECG paper (25 mm/s, 10 mm/mV), detected beats,
heart rate and the quality of every lead (**Signal**); P, QRS and T waves with PR, QRS, QT/QTc and axes
(**PQRST**); beat classes and a rhythm summary (**Diagnosis**); the models behind them (**Models**).

* **Signal files**: WFDB (`.hea` + `.dat` [+ `.atr`], or a `.zip` of them), CSV/TSV, EDF/EDF+, NumPy `.npy`/`.npz`.
* **Databases**: any record under `ECG_DATA_DIR` (MIT-BIH, LUDB, ...).
* **Demo**: a synthetic 12-lead record made by code, with a few ectopic beats.
"""
)
st.warning(
    "Research software, not a medical device. Its output must not be used for diagnosis or "
    "treatment decisions.",
    icon="⚠️",
)
if st.button("Open the demo record", type="primary"):
    set_record(demo_record(), "demo")
    st.switch_page("app_pages/signal.py")
