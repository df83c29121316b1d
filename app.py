"""Streamlit entry point: navigation over pages/, shared state, disclaimer."""

import streamlit as st

from pages._common import init_state

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
nav.run()
# drawn after the page so it names the record the page may just have loaded
with st.sidebar:
    rec = st.session_state["record"]
    st.caption(f"Current record: **{rec.name}** · {rec.n_leads} leads · {rec.duration_s:.0f} s")
    st.caption("Research software, not a medical device. Not for diagnosis or treatment decisions.")
