"""The read exported as PDF and HTML: readable, complete, and safe with hostile record names."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest

from tests.conftest import ROOT

pypdf = pytest.importorskip("pypdf")


def _pdf_text(data: bytes) -> tuple[str, list]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages), [im for p in reader.pages for im in p.images]


@pytest.mark.skipif(not (ROOT / "weights" / "multimodal_ludb.pt").exists(), reason="no shipped 12-lead model")
def test_full_report_of_a_ludb_record_is_a_readable_pdf_and_html(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import delineate
    from ecg_core.predict.diagnosis import diagnose, load_multimodal
    from ecg_core.report import build_report, report_html, report_pdf
    from ecg_core.signal.ectopy import ectopy_summary

    rec, _ = load_ludb("1")
    members, spec, card = load_multimodal(ROOT / "weights" / "multimodal_ludb.pt")
    dx = diagnose(rec, members, spec, card, mc_samples=4, explain=())
    m = delineate(rec, "unet").measure()
    ect = ectopy_summary(np.array(["N"] * 8 + ["V", "N"] * 3))
    models = [{"role": "12-lead diagnosis", "file": card["file"], "sha256": card["sha256"], "note": "LUDB"}]
    rep = build_report(rec, diagnosis=dx, measurements=m, ectopy=ect, models=models)
    pdf = report_pdf(rep)
    assert pdf[:5] == b"%PDF-"
    text, images = _pdf_text(pdf)
    for needle in ("ECG read: 1", "not a medical device", "PR interval", "QTc (Bazett)", "hypertrophy",
                   "repolarisation", "Beat classes", "Rhythm summary", card["sha256"][:16], "500 Hz",
                   "Patient: age 51, sex F"):
        assert needle in text, needle
    # the measured heart rate is in the table (record 1 is a sinus bradycardia at about 46 bpm)
    assert re.search(r"Heart rate\s+(4[0-9]|5[0-5])\s+bpm", text)
    assert len(images) == 1 and images[0].image.width > 1000  # the tracing, at print resolution
    html = report_html(rep)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html.lower()
    data_uri = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html).group(1)
    assert base64.b64decode(data_uri) == rep.tracing_png
    for f in rep.findings:
        assert f"<td>{f['finding']}</td><td>{f['probability']:.2f}</td>" in html


def test_tracing_only_report_and_hostile_names(mitdb):
    from ecg_core.io import load_record
    from ecg_core.report import build_report, report_html, report_pdf

    rec = load_record(mitdb / "100.hea")
    rec = rec.replace(name="<script>alert('x')</script> é–≥", metadata={"age": 69.0, "sex": "M"})
    rep = build_report(rec, start_s=60.0)
    html = report_html(rep)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "60.0 s" in rep.tracing_caption and "one strip per lead" in rep.tracing_caption
    text, images = _pdf_text(report_pdf(rep))
    assert "<script>alert('x')</script> é->=" in text  # Latin-1 kept, the rest replaced, not dropped
    assert "Measurements" not in text and len(images) == 1


def test_report_heads_with_a_printout_block_of_key_measurements_and_statements(ludb):
    """LUDB 24 (complete LBBB): the header gives HR, PR, QRS, QT/QTc and the P-R-T axes, then the
    statements and the review note, before the tracing; each statement's evidence follows in a table."""
    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import read
    from ecg_core.predict.delineation import held_out_delineators
    from ecg_core.report import UNCONFIRMED, build_report, report_html, report_pdf

    rec, _ = load_ludb("24", true_scale=True)
    r = read(rec, model=held_out_delineators(["24"])["24"])
    rep = build_report(rec, measurements=r.measurements, interpretation=r.interpretation)
    m = r.measurements
    text, _ = _pdf_text(report_pdf(rep))
    flat = " ".join(text.split())
    assert f"QRS {m.qrs_ms:.0f} ms" in flat and f"HR {m.hr_bpm:.0f} bpm" in flat and "P-R-T axes" in flat
    assert "Complete left bundle branch block" in flat and UNCONFIRMED in flat
    assert flat.index("Complete left bundle branch block") < flat.index("Statements and their evidence")
    assert "Statements and their evidence" in flat and "Surawicz" not in flat  # the JSON holds the references
    page = report_html(rep)
    assert page.index("Complete left bundle branch block") < page.index("<h2>Tracing</h2>")
    assert UNCONFIRMED in page
