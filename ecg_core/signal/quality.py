"""Per-lead signal quality: flat, saturated, noisy, or good, with the numbers behind the verdict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import bandpass

__all__ = ["LeadQuality", "lead_quality"]


@dataclass(frozen=True)
class LeadQuality:
    """Quality of one lead.

    ``label`` is ``"good"``, ``"noisy"``, ``"flat"`` or ``"saturated"``; ``score`` in [0, 1] (1 best) is the
    fraction of 2-second windows whose high-frequency noise is under 0.05 mV RMS and whose baseline
    wander is under 1 mV; ``noise_mv`` is the median RMS of the signal above 40 Hz; ``range_mv`` the
    0.5-99.5 percentile range.
    """

    lead: str
    label: str
    score: float
    noise_mv: float
    range_mv: float
    clipped_fraction: float


def lead_quality(signal: np.ndarray, fs: float, lead_names: tuple[str, ...] | list[str]) -> list[LeadQuality]:
    """Judge each lead of ``signal`` ``(n_leads, n_samples)`` in mV.

    Flat: range under 0.01 mV. Saturated: over 5 % of samples at the lead's extreme values. Noisy:
    under 80 % of 2-s windows pass the noise and wander limits.
    """
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    win = max(1, int(2 * fs))
    k = max(1, x.shape[1] // win)
    hf = x - bandpass(x, fs, None, 40.0) if fs > 90 else np.zeros_like(x)
    lf = bandpass(x, fs, None, 0.7)
    out = []
    for i, name in enumerate(lead_names):
        lo, hi = np.percentile(x[i], [0.5, 99.5])
        rng = float(hi - lo)
        x_min, x_max = float(x[i].min()), float(x[i].max())
        clipped = float(np.mean((x[i] <= x_min) | (x[i] >= x_max))) if x_max > x_min else 1.0
        noise_w = np.sqrt(np.mean(hf[i, : k * win].reshape(k, -1) ** 2, axis=1))
        lfw = lf[i, : k * win].reshape(k, -1)
        wander_w = lfw.max(axis=1) - lfw.min(axis=1)
        ok = (noise_w < 0.05) & (wander_w < 1.0)
        score = float(ok.mean())
        if rng < 0.01:
            label, score = "flat", 0.0
        elif clipped > 0.05:
            label = "saturated"
        elif score < 0.8:
            label = "noisy"
        else:
            label = "good"
        out.append(LeadQuality(str(name), label, score, float(np.median(noise_w)), rng, clipped))
    return out
