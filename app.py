"""Streamlit entry point: navigation over pages/, shared state, disclaimer."""

import logging
import os

import streamlit as st

from ecg_core.errors import ECGError
from pages._common import init_state

log = logging.getLogger("ecg_app")
logging.getLogger("fsspec").setLevel(logging.WARNING)  # at DEBUG it logs the paths it opens: upload names

st.set_page_config(page_title="ECG workbench", page_icon="🫀", layout="wide")
init_state(from_app=True)

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/signal.py", title="Signal", icon=":material/monitor_heart:", url_path="signal"),
    st.Page("pages/pqrst.py", title="PQRST", icon=":material/ecg:", url_path="pqrst"),
    st.Page("pages/diagnosis.py", title="Diagnosis", icon=":material/cardiology:", url_path="diagnosis"),
    st.Page("pages/image.py", title="Image", icon=":material/image:", url_path="image"),
    st.Page("pages/training.py", title="Training", icon=":material/fitness_center:", url_path="training"),
    st.Page("pages/models.py", title="Models", icon=":material/model_training:", url_path="models"),
]
nav = st.navigation(pages)
try:
    nav.run()
except ECGError as exc:  # a problem with a file, a record or a weights file: say what, keep the record
    st.error(f"{exc} The current record is unchanged.")
except Exception as exc:  # never a traceback in the UI; the log gets it, without the record's data
    if os.environ.get("ECG_DEBUG") == "1":  # the test suite: a page that breaks fails its test
        raise
    # the type and where it happened, not the message: messages name files, and file names may name patients
    log.error("page %s failed: %s", nav.title, type(exc).__name__, exc_info=(type(exc), None, exc.__traceback__))
    st.error(f"Something went wrong on this page ({type(exc).__name__}). The current record is unchanged; "
             "the details are in the server log.")
# drawn after the page so it names the record the page may just have loaded
with st.sidebar:
    rec = st.session_state["record"]
    st.caption(f"Current record: **{rec.name}** · {rec.n_leads} leads · {rec.duration_s:.0f} s")
    st.caption("Research software, not a medical device. Not for diagnosis or treatment decisions.")
