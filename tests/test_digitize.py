"""Digitising rendered ECG pages: scale, layout, SNR against the true signal, tilt, and bad images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ecg_core.data.render import RenderStyle, render_record
from ecg_core.digitize import digitize, grid_scale, skew_angle, snr_db
from ecg_core.errors import ECGError


def _snrs(rec, d):
    out = []
    for p in d.panels:
        li = rec.lead_names.index(p.lead) if p.lead in rec.lead_names else int(p.lead.split()[-1]) - 1
        a, b = int(round(p.t0 * rec.fs)), int(round(p.t1 * rec.fs))
        truth = rec.signal[li, a:b]
        got = np.interp(np.arange(a, b) / rec.fs, p.t0 + np.arange(len(p.signal)) / p.fs, p.signal)
        out.append(snr_db(truth, got))
    return np.asarray(out)


def test_a_12_lead_page_reads_back_above_15_db(ludb):
    from ecg_core.data.ludb import load_ludb

    rec, _ = load_ludb("7")
    page = render_record(rec, style=RenderStyle(dpi=200))
    ppm_x, ppm_y, conf = grid_scale(page.image)
    assert ppm_x == pytest.approx(page.px_per_mm, rel=5e-4) and ppm_y == pytest.approx(page.px_per_mm, rel=5e-3)
    d = digitize(page.image)
    assert d.layout == "3x4" and len(d.panels) == 13 and d.scale_from == "grid"
    assert [p.lead for p in d.panels[:4]] == ["I", "aVR", "V1", "V4"] and d.panels[-1].lead == "II"
    snr = _snrs(rec, d)
    assert snr.mean() > 15.0 and snr.min() > 10.0
    out = d.to_record("7 (image)")
    assert out.lead_names[:3] == ("I", "II", "III") and out.fs == 500.0 and out.n_leads == 12
    assert snr_db(rec.signal[1, :4900], out.signal[1, :4900]) > 15.0  # lead II: the 10 s rhythm strip
    assert out.metadata["printed windows s"]["V1"] == pytest.approx([5.0, 7.5], abs=0.02)
    assert np.all(out.signal[out.lead_names.index("V1"), :2000] == 0)  # not printed there: zero, and said so


def test_strips_of_a_two_lead_record_and_a_tilted_scan(mitdb):
    from ecg_core.io import load_record

    rec = load_record(mitdb / "100.hea").crop(60, 70)
    page = render_record(rec, style=RenderStyle(dpi=200))
    d = digitize(page.image)
    assert d.layout == "strips" and [p.lead for p in d.panels] == ["lead 1", "lead 2"]
    assert _snrs(rec, d).mean() > 15.0
    tilted = np.asarray(Image.fromarray(page.image).rotate(2.0, resample=Image.BILINEAR, fillcolor=(255, 246, 246)))
    assert skew_angle(tilted) == pytest.approx(-2.0, abs=0.15)
    d2 = digitize(tilted)
    assert abs(d2.rotation_deg + 2.0) <= 0.15 and _snrs(rec, d2).mean() > 8.0


def test_images_without_an_ecg_are_refused_with_a_reason():
    rng = np.random.default_rng(0)
    with pytest.raises(ECGError, match="too small"):
        digitize(np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ECGError, match="no ECG|scale"):
        digitize(np.full((300, 600, 3), 255, np.uint8))  # a blank page
    with pytest.raises(ECGError):
        digitize(rng.integers(0, 256, (300, 600, 3), dtype=np.uint8))  # noise
    with pytest.raises(ECGError, match="RGB or grey"):
        digitize(np.zeros((100, 100, 2), np.uint8))


def test_fuzzed_images_give_a_reading_or_a_message():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ecg_core.data import demo_record

    page = render_record(demo_record(), style=RenderStyle(dpi=100)).image

    @st.composite
    def images(draw):
        kind = draw(st.sampled_from(["noise", "flat", "crop", "lines", "scaled"]))
        h, w = draw(st.integers(64, 300)), draw(st.integers(64, 600))
        seed = draw(st.integers(0, 2 ** 16))
        rng = np.random.default_rng(seed)
        if kind == "noise":
            return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if kind == "flat":
            return np.full((h, w, 3), draw(st.integers(0, 255)), np.uint8)
        if kind == "crop":
            y0, x0 = rng.integers(0, page.shape[0] - 64), rng.integers(0, page.shape[1] - 64)
            return page[y0:y0 + h, x0:x0 + w]
        if kind == "lines":
            img = np.full((h, w, 3), 250, np.uint8)
            img[rng.integers(0, h, size=int(rng.integers(1, 12))), :] = 0
            return img
        f = draw(st.floats(0.2, 1.5))
        size = (max(64, int(page.shape[1] * f)), max(64, int(page.shape[0] * f)))
        return np.asarray(Image.fromarray(page).resize(size))

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(images())
    def check(img):
        try:
            d = digitize(img)
        except ECGError as exc:
            assert str(exc)  # a sentence, never an empty message
            return
        assert d.panels and all(np.isfinite(p.signal).all() for p in d.panels)
        rec = d.to_record("fuzz")
        assert np.isfinite(rec.signal).all()

    check()
