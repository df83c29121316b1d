"""Pacemaker pulses in a recorded ECG: the sharp, lead-wide spikes a pacemaker stimulus leaves.

A pacing pulse lasts 0.1 to 2 ms (IEC 60601-2-25 sets the pulses an electrocardiograph must show at 2 to
700 mV, 0.1 to 2 ms), shorter than one sample at 500 Hz, so a recorder that keeps it shows a one- or
two-sample spike: a second difference of about twice the spike's height for a one-sample spike, about its
height when the pulse is split between two samples. Natural ECG waves change slope far more slowly (at
500 Hz the steepest QRS corners give second differences of a few tenths of a millivolt). So a pulse is a
second difference of at least half the smallest pulse the standard names (1 mV), in at least two leads at
once (a pulse reaches every lead that spans the pacing electrodes; one lead's spike is more often noise).
Written here because neither NeuroKit2 nor wfdb detects pacing pulses.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pacing_spikes", "PULSE_MIN_MV"]

#: the smallest second difference counted as a pacing pulse (half of IEC 60601-2-25's smallest pulse), mV
PULSE_MIN_MV = 1.0


def pacing_spikes(signal: np.ndarray, fs: float, min_mv: float = PULSE_MIN_MV, min_leads: int = 2,
                  refractory_ms: float = 10.0) -> np.ndarray:
    """Sample indices of pacing pulses in ``signal`` ``(n_leads, n_samples)`` in mV, as recorded (not
    band-passed: a filter smears the pulse): where the absolute second difference reaches ``min_mv`` in at
    least ``min_leads`` leads within one sample of each other; pulses closer than ``refractory_ms`` are one."""
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))
    if x.shape[1] < 3:
        return np.zeros(0, dtype=np.int64)
    d2 = np.zeros_like(x)
    d2[:, 1:-1] = np.abs(x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2])
    hit = d2 >= min_mv
    hit = hit | np.roll(hit, 1, axis=1) | np.roll(hit, -1, axis=1)  # within one sample across leads
    need = min(min_leads, x.shape[0])
    cand = np.flatnonzero(hit.sum(axis=0) >= need)
    if not len(cand):
        return np.zeros(0, dtype=np.int64)
    gap = max(1, int(round(refractory_ms / 1000 * fs)))
    starts = cand[np.r_[True, np.diff(cand) > gap]]
    ends = np.r_[cand[np.flatnonzero(np.diff(cand) > gap)], cand[-1]]
    strength = d2.max(axis=0)
    return np.array([a + int(np.argmax(strength[a:b + 1])) for a, b in zip(starts, ends)], dtype=np.int64)
