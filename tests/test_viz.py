"""ECG paper figure: scale, grid, layout, point budget; decimation keeps QRS peaks."""

from __future__ import annotations

import numpy as np

from ecg_core.data import demo_record
from ecg_core.viz import aux_figure, ecg_paper_figure, minmax_decimate, overview_figure


def _points(fig):
    return sum(len(t.x) for t in fig.data if t.x is not None)


def test_paper_grid_and_aspect():
    rec = demo_record()
    fig = ecg_paper_figure(rec)
    xa, ya = fig.layout.xaxis, fig.layout.yaxis
    assert xa.dtick == 0.2 and xa.minor.dtick == 0.04  # 5 mm and 1 mm at 25 mm/s
    assert xa.ticklabelstep == 5  # time labelled every second, not every box
    assert ya.dtick == 0.5 and ya.minor.dtick == 0.1  # 5 mm and 1 mm at 10 mm/mV
    assert ya.scaleanchor == "x" and ya.scaleratio == 0.4  # 10 mm per mV over 25 mm per s


def test_twelve_lead_standard_layout_with_rhythm_strip():
    rec = demo_record()
    fig = ecg_paper_figure(rec, r_idx=rec.annotations["atr"].sample_idx,
                           beat_labels=list(rec.annotations["atr"].symbol))
    labels = [a.text.replace("<b>", "").replace("</b>", "") for a in fig.layout.annotations]
    assert labels == ["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III", "aVF", "V3", "V6", "II"]
    # column 2 (aVR) starts 2.5 s in; the rhythm strip spans the 10 s
    x_avr = [a.x for a in fig.layout.annotations][1]
    assert abs(x_avr - 2.53) < 1e-6
    names = {t.name for t in fig.data}
    assert {"beat N", "beat V", "beat A", "1 mV calibration"} <= names
    cal = next(t for t in fig.data if t.name == "1 mV calibration")
    heights = np.nanmax(np.array(cal.y[:6], dtype=float)) - np.nanmin(np.array(cal.y[:6], dtype=float))
    assert heights == 1.0


def test_long_record_window_stays_under_point_budget(mitdb):
    from ecg_core.io import load_record

    rec = load_record(mitdb / "100.hea")
    fig = ecg_paper_figure(rec, start_s=600, duration_s=1800)
    assert _points(fig) <= 100_000
    ov = overview_figure(rec, window=(600, 610), r_idx=rec.annotations["atr"].sample_idx)
    assert _points(ov) <= 12_000


def test_minmax_decimation_keeps_every_peak():
    t = np.arange(650_000) / 360
    y = np.zeros_like(t)
    y[::288] = 1.0  # a 1-sample "R peak" every 0.8 s
    td, yd = minmax_decimate(t, y, 20_000)
    assert len(yd) <= 20_002
    assert int(np.sum(yd == 1.0)) == int(np.sum(y == 1.0))
    assert np.all(np.diff(td) >= 0)


def test_aux_channels_drawn_in_their_units_for_the_paper_window():
    from ecg_core.record import AuxSignal

    rec = demo_record()
    assert aux_figure(rec) is None
    abp = AuxSignal("ABP", "mmHg", 80 + 40 * np.sin(np.arange(1250) / 20), 125.0)
    rec = rec.replace(aux=(abp, AuxSignal("RESP", "NU", np.arange(500), 50.0)))
    fig = aux_figure(rec, start_s=2.0, duration_s=4.0)
    assert [t.name for t in fig.data] == ["ABP", "RESP"]
    x = np.asarray(fig.data[0].x, dtype=float)
    assert x.min() >= 2.0 and x.max() <= 6.0 and len(x) == 500  # 4 s at 125 Hz
    assert np.allclose(np.asarray(fig.data[0].y, dtype=float), abp.signal[250:750], atol=1e-4)
    assert fig.layout.yaxis.title.text == "ABP (mmHg)" and fig.layout.yaxis2.title.text == "RESP (NU)"
