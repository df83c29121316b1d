"""Filters and resampling (scipy.signal): band-pass, notch, baseline-wander removal, polyphase resampling.

All functions take ``(n_leads, n_samples)`` or ``(n_samples,)`` arrays in mV and return the same shape,
float32, with zero phase (forward-backward filtering) so wave timing is unchanged.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal as sps
from scipy.ndimage import median_filter

__all__ = ["bandpass", "notch", "remove_baseline", "resample", "clean"]


def _check_fs(fs: float) -> float:
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive number of Hz, got {fs}")
    return fs


def bandpass(x: np.ndarray, fs: float, low_hz: float | None = 0.5, high_hz: float | None = 40.0,
             order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass (``low_hz=None``: low-pass; ``high_hz=None``: high-pass).

    ``order`` is that of each pass; forward-backward filtering doubles its effect. Cut-offs at or
    above Nyquist are dropped rather than raising, so a 100 Hz record still gets its high-pass.
    """
    fs = _check_fs(fs)
    nyq = fs / 2
    lo = low_hz if low_hz and low_hz > 0 else None
    hi = high_hz if high_hz and high_hz < 0.95 * nyq else None
    if lo is None and hi is None:
        return np.asarray(x, dtype=np.float32).copy()
    if lo and hi:
        if lo >= hi:
            raise ValueError(f"low cut-off {lo} Hz must be below high cut-off {hi} Hz")
        sos = sps.butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
    elif lo:
        sos = sps.butter(order, lo, btype="highpass", fs=fs, output="sos")
    else:
        sos = sps.butter(order, hi, btype="lowpass", fs=fs, output="sos")
    x = np.asarray(x)
    if x.ndim == 1:
        return sps.sosfiltfilt(sos, x.astype(np.float64)).astype(np.float32)
    out = np.empty(x.shape, dtype=np.float32)
    for i in np.ndindex(x.shape[:-1]):  # one lead at a time keeps the float64 work copy small
        out[i] = sps.sosfiltfilt(sos, x[i].astype(np.float64))
    return out


def notch(x: np.ndarray, fs: float, freq_hz: float = 50.0, quality: float = 30.0,
          harmonics: bool = False) -> np.ndarray:
    """Zero-phase IIR notch at the mains frequency (50 or 60 Hz) and, optionally, its harmonics."""
    fs = _check_fs(fs)
    y = np.asarray(x, dtype=np.float64)
    f = float(freq_hz)
    while f < fs / 2:
        b, a = sps.iirnotch(f, quality, fs=fs)
        y = sps.filtfilt(b, a, y, axis=-1)
        if not harmonics:
            break
        f += freq_hz
    return y.astype(np.float32)


def _median_baseline(x: np.ndarray, fs: float) -> np.ndarray:
    # de Chazal 2004: 200 ms then 600 ms median filters estimate the baseline under QRS and T waves
    w1 = int(0.2 * fs) | 1
    w2 = int(0.6 * fs) | 1
    size = (1, w1) if x.ndim == 2 else w1
    base = median_filter(x, size=size, mode="nearest")
    size = (1, w2) if x.ndim == 2 else w2
    return median_filter(base, size=size, mode="nearest")


_BASELINE = {
    "highpass": lambda x, fs: bandpass(x, fs, 0.5, None),
    "median": lambda x, fs: (x - _median_baseline(x, fs)).astype(np.float32),
}


def remove_baseline(x: np.ndarray, fs: float, method: str = "highpass") -> np.ndarray:
    """Remove baseline wander: ``"highpass"`` (0.5 Hz zero-phase Butterworth, fast) or ``"median"``
    (200 + 600 ms median filters, de Chazal et al. 2004, keeps ST levels better but is slower)."""
    fs = _check_fs(fs)
    if method not in _BASELINE:
        raise ValueError(f"unknown baseline method {method!r}; valid: {', '.join(sorted(_BASELINE))}")
    return _BASELINE[method](np.asarray(x, dtype=np.float32), fs)


def resample(x: np.ndarray, fs: float, new_fs: float) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``) from ``fs`` to ``new_fs`` Hz along the last axis."""
    fs, new_fs = _check_fs(fs), _check_fs(new_fs)
    if fs == new_fs:
        return np.asarray(x, dtype=np.float32).copy()
    ratio = Fraction(new_fs / fs).limit_denominator(1000)
    return sps.resample_poly(np.asarray(x, dtype=np.float64), ratio.numerator, ratio.denominator,
                             axis=-1).astype(np.float32)


def clean(x: np.ndarray, fs: float, low_hz: float | None = 0.5, high_hz: float | None = 40.0,
          notch_hz: float | None = None) -> np.ndarray:
    """The display/analysis filter chain: optional mains notch, then zero-phase band-pass."""
    y = np.asarray(x, dtype=np.float32)
    if notch_hz:
        y = notch(y, fs, notch_hz)
    return bandpass(y, fs, low_hz, high_hz)
