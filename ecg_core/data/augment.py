"""Time-domain ECG augmentation: realistic artefacts and changes that keep labels consistent.

Every function takes a ``(n_leads, n_samples)`` signal in mV, its rate and a NumPy ``Generator``, and
returns a new array of the same shape (the input is never changed). :func:`time_scale` also moves sample
indices and stretches label masks, so marks stay on their waves. The noise models follow the MIT-BIH
Noise Stress Test's three kinds (baseline wander, muscle artefact, electrode motion); as those recordings
are not shipped here, each is synthesised: wander as a sum of slow sinusoids (respiration, < 0.5 Hz),
muscle noise as band-limited (20-150 Hz) Gaussian noise in bursts, electrode motion as random steps and
slow transients with spiky onsets. ``snr_db`` sets the noise power against the signal's own.
"""

from __future__ import annotations

import numpy as np
import scipy.signal as sps

__all__ = ["baseline_wander", "muscle_noise", "electrode_motion", "powerline", "gaussian_noise",
           "amplitude_scale", "invert", "time_scale", "add_noise", "NOISE_KINDS"]


def _power(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return np.maximum((x ** 2).mean(axis=-1, keepdims=True), 1e-8)


def _scaled(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``x`` plus ``noise`` scaled to ``snr_db`` per lead."""
    k = np.sqrt(_power(x) / (_power(noise) * 10 ** (snr_db / 10)))
    return (x + k * noise).astype(np.float32)


def baseline_wander(x: np.ndarray, fs: float, rng: np.random.Generator, snr_db: float = 0.0) -> np.ndarray:
    """Slow drift (respiration, movement): a few sinusoids of 0.05-0.5 Hz, different in each lead."""
    t = np.arange(x.shape[-1]) / fs
    noise = np.zeros(x.shape)
    for _ in range(3):
        f = rng.uniform(0.05, 0.5, (x.shape[0], 1))
        noise += rng.uniform(0.3, 1.0, (x.shape[0], 1)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi,
                                                                                                    (x.shape[0], 1)))
    return _scaled(x, noise, snr_db)


def muscle_noise(x: np.ndarray, fs: float, rng: np.random.Generator, snr_db: float = 6.0) -> np.ndarray:
    """EMG: Gaussian noise band-limited to 20-150 Hz (below Nyquist), in bursts of 0.5-3 s."""
    hi = min(150.0, 0.45 * fs)
    sos = sps.butter(4, [20.0, hi], btype="bandpass", fs=fs, output="sos")
    noise = sps.sosfilt(sos, rng.standard_normal(x.shape), axis=-1)
    env = np.zeros(x.shape[-1])
    t = 0
    while t < x.shape[-1]:
        n = int(rng.uniform(0.5, 3.0) * fs)
        env[t:t + n] = rng.uniform(0.3, 1.0) if rng.random() < 0.7 else 0.1
        t += n
    env = sps.sosfiltfilt(sps.butter(1, 2.0, fs=fs, output="sos"), env)
    return _scaled(x, noise * env, snr_db)


def electrode_motion(x: np.ndarray, fs: float, rng: np.random.Generator, snr_db: float = 6.0) -> np.ndarray:
    """Electrode motion: random baseline steps and slow transients (0.5-10 Hz content) that overlap the
    ECG's own band, the artefact that fools detectors most."""
    n = x.shape[-1]
    noise = np.zeros(x.shape)
    for lead in range(x.shape[0]):
        for _ in range(int(rng.integers(1, 5))):
            t0 = int(rng.integers(0, n))
            dur = int(rng.uniform(0.1, 0.8) * fs)
            shape = np.exp(-np.arange(n - t0) / max(dur, 1)) * rng.normal(0, 1)
            noise[lead, t0:] += shape
    sos = sps.butter(2, [0.5, min(10.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    noise = noise + 0.5 * sps.sosfilt(sos, rng.standard_normal(x.shape), axis=-1) * np.abs(noise).max()
    return _scaled(x, noise, snr_db)


def powerline(x: np.ndarray, fs: float, rng: np.random.Generator, snr_db: float = 10.0,
              freq_hz: float | None = None) -> np.ndarray:
    """Mains interference at 50 or 60 Hz (random when not given)."""
    f = freq_hz or float(rng.choice([50.0, 60.0]))
    t = np.arange(x.shape[-1]) / fs
    noise = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, (x.shape[0], 1)))
    return _scaled(x, noise, snr_db)


def gaussian_noise(x: np.ndarray, fs: float, rng: np.random.Generator, snr_db: float = 20.0) -> np.ndarray:
    return _scaled(x, rng.standard_normal(x.shape), snr_db)


def amplitude_scale(x: np.ndarray, fs: float, rng: np.random.Generator, low: float = 0.6,
                    high: float = 1.6) -> np.ndarray:
    """One gain for the record times a small per-lead gain (electrode placement, body habitus)."""
    g = rng.uniform(low, high) * rng.uniform(0.9, 1.1, (x.shape[0], 1))
    return (x * g).astype(np.float32)


def invert(x: np.ndarray, fs: float, rng: np.random.Generator, leads: list[int] | None = None) -> np.ndarray:
    """Flip the sign of ``leads`` (all by default): reversed electrodes."""
    y = np.array(x, dtype=np.float32)
    y[leads if leads is not None else slice(None)] *= -1
    return y


def time_scale(x: np.ndarray, fs: float, factor: float, marks: np.ndarray | None = None,
               labels: np.ndarray | None = None):
    """Play the record ``factor`` times faster (``factor`` > 1: tachycardia, every wave shorter).

    Returns ``(x, marks, labels)``: the resampled signal, sample indices divided by ``factor``, and
    label masks (last axis time) resampled by nearest neighbour; ``None`` stays ``None``.
    """
    n = x.shape[-1]
    m = max(int(round(n / factor)), 2)
    src = np.minimum(np.round(np.arange(m) * factor).astype(np.int64), n - 1)
    y = sps.resample(x, m, axis=-1).astype(np.float32) if m != n else np.array(x, dtype=np.float32)
    new_marks = None if marks is None else np.round(np.asarray(marks) / factor).astype(np.int64)
    new_labels = None if labels is None else np.asarray(labels)[..., src]
    return y, new_marks, new_labels


NOISE_KINDS = {"baseline_wander": baseline_wander, "muscle": muscle_noise, "electrode_motion": electrode_motion,
               "powerline": powerline, "gaussian": gaussian_noise}


def add_noise(x: np.ndarray, fs: float, kind: str, snr_db: float, seed: int = 0) -> np.ndarray:
    """One of :data:`NOISE_KINDS` at ``snr_db``, reproducibly."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise {kind!r}; valid: {', '.join(NOISE_KINDS)}")
    return NOISE_KINDS[kind](x, fs, np.random.default_rng(seed), snr_db=snr_db)
