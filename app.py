"""Streamlit entry point: navigation over app_pages/, shared state, disclaimer and current record."""

import logging
import os

import streamlit as st

from app_pages._common import init_state
from ecg_core.errors import ECGError

log = logging.getLogger("ecg_app")
logging.getLogger("fsspec").setLevel(logging.WARNING)  # at DEBUG it logs the paths it opens: upload names

st.set_page_config(page_title="ECG workbench", page_icon="🫀", layout="wide")
init_state(from_app=True)

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/signal.py", title="Signal", icon=":material/monitor_heart:", url_path="signal"),
    st.Page("app_pages/pqrst.py", title="PQRST", icon=":material/ecg:", url_path="pqrst"),
    st.Page("app_pages/diagnosis.py", title="Diagnosis", icon=":material/cardiology:", url_path="diagnosis"),
    st.Page("app_pages/image.py", title="Image", icon=":material/image:", url_path="image"),
    st.Page("app_pages/training.py", title="Training", icon=":material/fitness_center:", url_path="training"),
    st.Page("app_pages/models.py", title="Models", icon=":material/model_training:", url_path="models"),
]
nav = st.navigation(pages)
with st.sidebar:
    status = st.empty()


def _status() -> None:
    """The current record and the notice, in the sidebar of every page in every state."""
    rec = st.session_state["record"]
    with status.container():
        st.caption(f"Current record: **{rec.name}** · {rec.n_leads} leads · {rec.duration_s:.0f} s")
        st.caption("Research software, not a medical device. Not for diagnosis or treatment decisions.")


_status()  # before the page: a page that stops early (st.stop) still shows them
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
_status()  # again after the page: it names the record the page may just have loaded
