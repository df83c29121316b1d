"""ECG-paper renderer: geometry that turns samples into pixels, layouts, scale."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.data import demo_record
from ecg_core.data.render import RenderStyle, render_record
from ecg_core.record import Record


def _dark(img: np.ndarray, x: float, y: float, r: int = 1) -> bool:
    xi, yi = int(round(x)), int(round(y))
    patch = img[max(0, yi - r):yi + r + 1, max(0, xi - r):xi + r + 1]
    return bool((patch.sum(axis=-1) < 150).any())


def test_12_lead_page_geometry_and_every_r_peak_on_the_trace():
    rec = demo_record()
    out = render_record(rec, style=RenderStyle(dpi=200))
    assert out.px_per_mm == pytest.approx(200 / 25.4)
    assert len(out.panels) == 13 and out.panels[-1].lead == "II" and out.panels[-1].t1 == pytest.approx(10.0)
    h, w, _ = out.image.shape
    assert w == round((2 * 6 + 8 + 250) * 200 / 25.4)  # margins + calibration room + 10 s at 25 mm/s
    r = rec.annotations["atr"].sample_idx
    lead = rec.lead_index("II")
    hits = out.sample_xy("II", r, rec.signal[lead])
    rhythm = [xy for k, xy in hits if k == 12][0]
    assert len(rhythm) == len(r)  # the rhythm strip shows every beat
    assert all(_dark(out.image, x, y) for x, y in rhythm)
    # 1 s of time is 25 mm on the page
    assert np.diff(rhythm[:, 0]) == pytest.approx(np.diff(r) / rec.fs * 25 * out.px_per_mm)


def test_strips_for_other_records_and_bad_requests():
    rec = Record(np.sin(np.linspace(0, 60, 3600))[None].repeat(2, 0), 360.0, ("MLII", "V5"))
    out = render_record(rec, duration_s=5.0)
    assert [p.lead for p in out.panels] == ["MLII", "V5"]
    with pytest.raises(ValueError, match="missing"):
        render_record(rec, layout="3x4")
    with pytest.raises(ValueError, match="layout"):
        render_record(rec, layout="6x2")
    blank = render_record(rec, style=RenderStyle(grid=False, labels=False, calibration=False))
    # without grid the paper colour dominates; with it, grid lines take a share of the pixels
    assert (blank.image == np.array(RenderStyle().paper)).all(axis=-1).mean() > \
        (out.image == np.array(RenderStyle().paper)).all(axis=-1).mean() + 0.1
