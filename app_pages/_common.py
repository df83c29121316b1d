"""State and cached calls shared by the pages (the library stays streamlit-free)."""

from __future__ import annotations

import hashlib
import secrets

import streamlit as st

from ecg_core.data import demo_record
from ecg_core.errors import ECGError
from ecg_core.io import wfdb_zip_bytes
from ecg_core.pipeline import Analysis, FilterSettings, analyse
from ecg_core.predict import weights_path
from ecg_core.record import Record


def record_key(record: Record, salt: str = "") -> str:
    """Cache key of a record's derived results. Pages salt it per session, so the results cached for one
    user's record are never served to another session, even for identical data (caches of models are
    shared; caches of users' data are not)."""
    h = hashlib.sha1(salt.encode())
    h.update(record.signal.tobytes())
    h.update(f"{record.name}|{record.fs}|{record.lead_names}".encode())
    return h.hexdigest()[:16]


def set_record(record: Record, source: str) -> None:
    """Make ``record`` the current record of every page (in this session's state only)."""
    salt = st.session_state.setdefault("_cache_salt", secrets.token_hex(8))
    st.session_state["record"] = record
    st.session_state["record_key"] = record_key(record, salt)
    st.session_state["record_source"] = source


def init_state(from_app: bool = False) -> None:
    """Set up shared state; called by app.py (``from_app=True``) and by every page."""
    if "record" not in st.session_state:
        set_record(demo_record(), "demo")


@st.cache_data(max_entries=8, show_spinner="Detecting beats...")
def cached_analysis(key: str, low_hz: float | None, high_hz: float | None, notch_hz: float | None,
                    _record: Record) -> Analysis:
    return analyse(_record, FilterSettings(low_hz, high_hz, notch_hz))


@st.cache_data(max_entries=4, show_spinner=False)
def cached_wfdb_zip(key: str, _analysis: Analysis) -> bytes:
    return wfdb_zip_bytes(_analysis.record, _analysis.beat_annotation())


# every model the pages run, loaded once per server process (shared, read-only): the library loads on
# each call and caches nothing itself


@st.cache_resource(show_spinner="Loading the beat model...")
def _load_beat_model(mode: str):
    from ecg_core.predict.beats import BEAT_WEIGHTS, load_beat_model

    if not weights_path(BEAT_WEIGHTS[mode]).exists():
        return None
    return load_beat_model(mode)


def _refused(loader, *args):
    """A shipped model from ``loader``; a file that fails its integrity check is named on the page and
    treated as absent (not cached: a restored file loads on the next run)."""
    try:
        return loader(*args)
    except ECGError as exc:
        st.error(str(exc))
        return None


def beat_model(mode: str):
    """The shipped beat model of ``mode`` (shared, read-only), or None when it is not shipped or refused."""
    return _refused(_load_beat_model, mode)


@st.cache_data(max_entries=8, show_spinner="Classifying beats...")
def cached_beat_classes(key: str, mode: str, _analysis: Analysis):
    from ecg_core.predict.beats import classify_beats

    model, spec, _ = _load_beat_model(mode)
    return classify_beats(_analysis.record, _analysis.r_idx, model, spec)


def delineation_available() -> bool:
    """Whether the learned delineator is shipped."""
    from ecg_core.predict.delineation import default_weights

    return default_weights().exists()


def delineation_card() -> dict:
    """The learned delineator's model card."""
    import json

    from ecg_core.predict.delineation import default_weights

    return json.loads(default_weights().with_suffix(".json").read_text())


@st.cache_resource(show_spinner="Loading the delineator...")
def delineator():
    """The shipped learned delineator's ensemble (raises ECGError when it is missing or refused)."""
    from ecg_core.predict.delineation import load_delineation

    return load_delineation()[0]


@st.cache_data(max_entries=8, show_spinner="Delineating P, QRS and T...")
def cached_delineation(key: str, method: str, start_s: float, duration_s: float, _record: Record):
    """The window ``start_s`` .. ``start_s + duration_s`` of the record and its delineation."""
    from ecg_core.pipeline import delineate

    crop = _window(_record, start_s, duration_s)
    return crop, delineate(crop, method, model=delineator() if method == "unet" else None)


def _window(record: Record, start_s: float, duration_s: float) -> Record:
    """``duration_s`` of ``record`` from ``start_s``; the whole record when it is hardly longer."""
    return record if record.duration_s <= duration_s + 0.5 else record.crop(start_s, start_s + duration_s)


@st.cache_data(max_entries=8, show_spinner="Reading the ECG: statements and their evidence...")
def cached_read(key: str, duration_s: float, _record: Record):
    """The whole read (:func:`ecg_core.pipeline.read`) of the record's first ``duration_s`` seconds, with the
    learned delineator, and the diagnostic beat model and the learned-statement model when they are shipped."""
    from ecg_core.pipeline import read

    crop = _window(_record, 0.0, duration_s)
    beats = _refused(_load_beat_model, "diagnostic")
    return read(crop, model=delineator(), beat_model=None if beats is None else beats[:2],
                statement_model=statement_model())


@st.cache_resource(show_spinner="Loading the learned-statement model...")
def _load_statement_model():
    from ecg_core.predict.diagnosis import load_multimodal, statement_weights

    return load_multimodal(statement_weights()) if statement_weights().exists() else None


def statement_model():
    """The shipped learned-statement model (fold members, spec, card), or None when not shipped or refused."""
    return _refused(_load_statement_model)


@st.cache_resource(show_spinner="Loading the 12-lead model...")
def _load_multimodal_model():
    from ecg_core.predict.diagnosis import default_weights, load_multimodal

    return load_multimodal() if default_weights().exists() else None


def multimodal_model():
    """The shipped 12-lead model (fold members, spec, card), or None when it is not shipped or refused."""
    return _refused(_load_multimodal_model)


@st.cache_data(max_entries=8, show_spinner="Reading the 12-lead ECG...")
def cached_diagnosis(key: str, explain: tuple[str, ...] = ("grad_cam", "rollout"),
                     _record: Record | None = None):
    from ecg_core.predict.diagnosis import diagnose

    members, spec, card = _load_multimodal_model()
    return diagnose(_record, members, spec, card, mc_samples=30, explain=explain)


@st.cache_resource(show_spinner=False)
def keypoint_model():
    """The shipped image keypoint model (ViT-DETR): ``(model, spec, card)``."""
    from ecg_core.predict.keypoints import load_keypoint_model

    return load_keypoint_model(weights_path("keypoints_detr.pt"))


@st.cache_resource(show_spinner=False)
def panel_model():
    """The shipped lead-panel model (Mask R-CNN): ``(model, spec, card)``."""
    from ecg_core.predict.panels import load_panel_model

    return load_panel_model(weights_path("panels_maskrcnn.pt"))


def card_line(card: dict, role: str) -> dict:
    """A model card as one row of a report's model list (role, file, sha256, headline figure)."""
    note = card.get("architecture", "")
    if card.get("ds2"):
        note += f"; MIT-BIH DS2 macro-F1 {card['ds2']['macro_f1_nsvf']:.3f}"
    if card.get("report", {}).get("macro_auc") is not None:
        note += f"; LUDB CV macro-AUC {card['report']['macro_auc']:.3f}"
    return {"role": role, "file": card.get("file", ""), "sha256": card.get("sha256", ""), "note": note}
