"""Filters, resampling and baseline removal measured on sinusoids and real records."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.signal import bandpass, notch, remove_baseline, resample

FS = 500.0
T = np.arange(int(10 * FS)) / FS


def _amp(x, f):
    spec = np.abs(np.fft.rfft(x[1000:-1000])) / (len(x) - 2000) * 2
    freqs = np.fft.rfftfreq(len(x) - 2000, 1 / FS)
    return spec[np.argmin(np.abs(freqs - f))]


def test_bandpass_keeps_qrs_band_and_removes_wander_and_hum():
    x = np.sin(2 * np.pi * 10 * T) + np.sin(2 * np.pi * 0.1 * T) + np.sin(2 * np.pi * 60 * T)
    y = bandpass(x, FS, 0.5, 40.0)
    assert _amp(y, 10) == pytest.approx(1.0, abs=0.02)
    assert _amp(y, 0.1) < 0.05
    assert _amp(y, 60) < 0.25
    assert y.dtype == np.float32


def test_bandpass_is_zero_phase():
    x = np.zeros_like(T)
    x[2500] = 1.0
    y = bandpass(x, FS, 0.5, 40.0)
    assert int(np.argmax(y)) == 2500


def test_notch_removes_mains_only():
    x = np.sin(2 * np.pi * 50 * T) + np.sin(2 * np.pi * 10 * T)
    y = notch(x, FS, 50.0)
    assert _amp(y, 50) < 0.02
    assert _amp(y, 10) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("method", ["highpass", "median"])
def test_baseline_removal(method):
    from ecg_core.data import demo_record

    rec = demo_record()
    wander = 1.5 * np.sin(2 * np.pi * 0.2 * np.arange(rec.n_samples) / rec.fs)
    y = remove_baseline(rec.signal[1] + wander, rec.fs, method=method)
    ref = remove_baseline(rec.signal[1], rec.fs, method=method)
    assert np.median(np.abs(y - ref)) < 0.1


def test_unknown_baseline_method_lists_valid():
    with pytest.raises(ValueError, match="valid: highpass, median"):
        remove_baseline(np.zeros(1000), 250, method="spline")


def test_resample_mitdb_rate_to_250_and_back():
    x = np.sin(2 * np.pi * 5 * np.arange(3600) / 360.0)
    y = resample(x, 360, 250)
    assert len(y) == 2500
    z = resample(y, 250, 360)
    assert len(z) == 3600
    assert np.max(np.abs(z[100:-100] - x[100:-100])) < 0.01


def test_bandpass_near_nyquist_is_tolerated():
    y = bandpass(np.random.default_rng(0).normal(size=1000), 100.0, 0.5, 60.0)  # 60 Hz >= Nyquist: high-pass only
    assert np.isfinite(y).all()
