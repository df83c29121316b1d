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

from functools import lru_cache

import numpy as np
import scipy.signal as sps

from ..record import STANDARD_12_LEADS, Annotation, Record
from ..signal.filters import bandpass
from ..signal.rpeaks import detect_rpeaks
from ..waves import runs

__all__ = ["baseline_wander", "muscle_noise", "electrode_motion", "powerline", "gaussian_noise",
           "amplitude_scale", "invert", "time_scale", "add_noise", "NOISE_KINDS", "shift", "time_warp",
           "lead_dropout", "pacing_spikes", "band_stop", "spectral_perturb", "mixup", "cutmix", "synthetic_ecg",
           "AUGMENTATIONS", "SignalAugmenter", "augment_batch", "AugmentingTask"]


@lru_cache(maxsize=256)
def _butter_design(order: int, band: float | tuple[float, float], btype: str, fs: float) -> np.ndarray:
    sos = sps.butter(order, band, btype=btype, fs=fs, output="sos")
    sos.flags.writeable = False
    return sos


def _butter(order: int, band: float | tuple[float, float], btype: str, fs: float) -> np.ndarray:
    """``scipy.signal.butter`` in second-order sections, designed once per argument set: augmentation runs per
    example (tens of thousands a training epoch), and designing the filter cost far more than running it. A copy
    of the cached design (scipy's filters want a writable array)."""
    return _butter_design(order, band, btype, float(fs)).copy()


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
    noise = sps.sosfilt(_butter(4, (20.0, hi), "bandpass", fs), rng.standard_normal(x.shape), axis=-1)
    env = np.zeros(x.shape[-1])
    t = 0
    while t < x.shape[-1]:
        n = int(rng.uniform(0.5, 3.0) * fs)
        env[t:t + n] = rng.uniform(0.3, 1.0) if rng.random() < 0.7 else 0.1
        t += n
    env = sps.sosfiltfilt(_butter(1, 2.0, "lowpass", fs), env)
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
    sos = _butter(2, (0.5, min(10.0, 0.45 * fs)), "bandpass", fs)
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


# --- label-moving time-domain transforms -----------------------------------------------------------------
# Each returns ``(x, marks, labels)``: ``marks`` (sample indices; -1 = absent) and ``labels`` (per-sample
# class masks, last axis time, -1 = unlabelled) follow the signal; ``None`` stays ``None``.

def shift(x: np.ndarray, fs: float, rng: np.random.Generator, max_s: float = 0.5, marks=None, labels=None):
    """Move the record by up to ``max_s`` seconds (the gap is zeros, unlabelled; marks pushed out become -1)."""
    n = x.shape[-1]
    d = int(round(rng.uniform(-max_s, max_s) * fs))
    y = np.zeros_like(x, dtype=np.float32)
    src, dst = (slice(0, n - d), slice(d, n)) if d >= 0 else (slice(-d, n), slice(0, n + d))
    y[..., dst] = x[..., src]
    new_marks = None
    if marks is not None:
        m = np.asarray(marks)
        new_marks = np.where((m >= 0) & (m + d >= 0) & (m + d < n), m + d, -1)
    new_labels = None
    if labels is not None:
        lab = np.asarray(labels)
        new_labels = np.full_like(lab, -1)
        new_labels[..., dst] = lab[..., src]
    return y, new_marks, new_labels


def time_warp(x: np.ndarray, fs: float, rng: np.random.Generator, strength: float = 0.15, knots: int = 4,
              marks=None, labels=None):
    """A smooth monotonic warp of time: the local rate varies by up to ``strength`` (piecewise-linear speed
    between ``knots`` random points), the length stays. Output sample ``j`` reads the input at ``src[j]``
    (linear interpolation); a mark at input sample ``m`` moves to the output sample whose source is nearest."""
    n = x.shape[-1]
    speed_knots = 1.0 + rng.uniform(-strength, strength, knots + 2)
    speed = np.interp(np.linspace(0, 1, n), np.linspace(0, 1, knots + 2), speed_knots)
    src = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    src *= (n - 1) / src[-1]  # same span: first sample to first, last to last
    t = np.arange(n)
    y = np.stack([np.interp(src, t, lead) for lead in np.asarray(x).reshape(-1, n)]).reshape(np.shape(x))
    new_marks = None
    if marks is not None:
        m = np.asarray(marks)
        moved = np.round(np.interp(np.clip(m, 0, n - 1), src, t)).astype(np.int64)
        new_marks = np.where(m >= 0, moved, -1)
    new_labels = None if labels is None else np.asarray(labels)[..., np.clip(np.round(src).astype(np.int64), 0, n - 1)]
    return y.astype(np.float32), new_marks, new_labels


def lead_dropout(x: np.ndarray, fs: float, rng: np.random.Generator, p: float = 0.3, marks=None, labels=None):
    """Zero each lead with probability ``p`` (one lead always kept); dropped leads lose their labels."""
    keep = rng.random(x.shape[0]) >= p
    keep[rng.integers(x.shape[0])] = True
    y = np.where(keep[:, None], x, 0.0).astype(np.float32)
    return y, marks, None if labels is None else drop_lead_labels(labels, keep)


def pacing_spikes(x: np.ndarray, fs: float, rng: np.random.Generator, labels: np.ndarray,
                  atrial: float = 0.2, band: tuple[float, float] | None = (0.5, 150.0)) -> np.ndarray:
    """Pacemaker pulses added to a labelled segment ``x`` (leads, n): one before every QRS onset (ventricular
    pacing; onsets from ``labels``, 2 = QRS in any lead) and, with probability ``atrial``, one before every P
    onset too. One pulse vector for the segment (each lead its own amplitude and sign, the largest 0.15-0.8 mV),
    a one-sample step with a return of 0-1.5 samples' time constant, 4-60 ms before the wave (one latency for
    the segment, a sample of jitter), band-passed like the model's input (``band``). Labels are unchanged: the
    pulse belongs to no wave, as cardiologists mark the QRS (or P) after it."""
    n_leads, n = x.shape
    lab = np.asarray(labels)[:n_leads]

    def onsets(k: int) -> np.ndarray:  # where a wave of kind k starts in any lead
        return runs((lab == k).any(axis=0))[:, 0]

    v = rng.normal(size=n_leads)
    v = (v / max(np.abs(v).max(), 1e-6) * rng.uniform(0.15, 0.8))[:, None]
    tau = float(rng.choice([0.0, 0.7, 1.5]))
    kernel = np.exp(-np.arange(1 + int(np.ceil(3 * tau))) / tau) if tau > 0 else np.ones(1)
    s = np.zeros((n_leads, n))
    kinds = [(2, (4.0, 60.0))] + ([(1, (4.0, 30.0))] if rng.random() < atrial else [])
    for kind, (lo_ms, hi_ms) in kinds:
        lat = rng.uniform(lo_ms, hi_ms) / 1000 * fs
        for o in onsets(kind):
            t = int(round(o - lat + rng.integers(-1, 2)))
            if 0 <= t and t + len(kernel) <= n:
                s[:, t:t + len(kernel)] += v * kernel
    if not s.any():
        return x
    if band is not None:
        s = bandpass(s, fs, *band)
    return (x + s).astype(np.float32)


def drop_lead_labels(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``labels`` (leads, n) with the rows of leads not in ``keep`` (one flag per lead) set to -1 (unknown)."""
    return np.where(np.asarray(keep)[:, None], labels, -1)


# --- frequency domain --------------------------------------------------------------------------------------

def band_stop(x: np.ndarray, fs: float, rng: np.random.Generator, width_hz: float = 4.0,
              centre_hz: float | None = None) -> np.ndarray:
    """Remove a band ``width_hz`` wide (centre ``centre_hz``, else random in 1-40 Hz) with a zero-phase
    filter: the model must not rely on any one band. Waves stay where they are."""
    c = centre_hz or rng.uniform(1.0 + width_hz / 2, min(40.0, 0.45 * fs - width_hz))
    sos = sps.butter(2, [c - width_hz / 2, c + width_hz / 2], btype="bandstop", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, x, axis=-1).astype(np.float32)


def spectral_perturb(x: np.ndarray, fs: float, rng: np.random.Generator, amp_std: float = 0.1,
                     phase_std: float = 0.1) -> np.ndarray:
    """Multiply the spectrum by a smooth random gain (log-normal, ``amp_std``) and add a smooth random
    phase (``phase_std`` rad); both vary slowly with frequency, so waves keep their place (a phase that is
    smooth in frequency is a small local delay) while their shapes change."""
    n = x.shape[-1]
    spec = np.fft.rfft(x, axis=-1)
    k = spec.shape[-1]
    grid = np.linspace(0, 1, k)
    knots = np.linspace(0, 1, 8)
    gain = np.exp(np.interp(grid, knots, rng.normal(0, amp_std, 8)))
    phase = np.interp(grid, knots, rng.normal(0, phase_std, 8))
    phase[0] = 0.0  # the mean stays real
    return np.fft.irfft(spec * gain * np.exp(1j * phase), n=n, axis=-1).astype(np.float32)


# --- batch mixing ------------------------------------------------------------------------------------------

def mixup(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float = 0.2):
    """MixUp (Zhang et al. 2018) over a batch: ``x`` ``(B, ...)``, one-hot or multi-hot ``y`` ``(B, C)``;
    each example is mixed with a shuffled partner at weight ``lam ~ Beta(alpha, alpha)``; the labels mix
    with the same weights. Returns ``(x, y, lam, partner)``."""
    lam = rng.beta(alpha, alpha, len(x))
    perm = rng.permutation(len(x))
    lx = lam.reshape(-1, *([1] * (x.ndim - 1)))
    ly = lam.reshape(-1, *([1] * (y.ndim - 1)))
    return (lx * x + (1 - lx) * x[perm]).astype(np.float32), (ly * y + (1 - ly) * y[perm]), lam, perm


def cutmix(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float = 1.0):
    """CutMix for signals (Yun et al. 2019, on the time axis): a random stretch of each example is taken
    from a shuffled partner; labels mix by the share of samples taken. Returns ``(x, y, lam, partner)``."""
    n = x.shape[-1]
    perm = rng.permutation(len(x))
    out, lam = np.array(x, dtype=np.float32), np.empty(len(x))
    for i in range(len(x)):
        cut = int(round((1 - rng.beta(alpha, alpha)) * n))
        s = int(rng.integers(0, n - cut + 1))
        out[i, ..., s:s + cut] = x[perm[i], ..., s:s + cut]
        lam[i] = 1 - cut / n
    ly = lam.reshape(-1, *([1] * (y.ndim - 1)))
    return out, ly * y + (1 - ly) * y[perm], lam, perm


# --- synthetic ECG -----------------------------------------------------------------------------------------

def synthetic_ecg(duration_s: float = 10.0, fs: float = 500.0, heart_rate: float = 70.0, hr_std: float = 1.0,
                  seed: int = 0, leads: int = 12):
    """A synthetic ECG from McSharry et al.'s dynamical model (ECGSYN: a point on a 3-D limit cycle with
    P, Q, R, S, T attractors, heart-rate variability with Mayer and respiratory waves), as implemented by
    NeuroKit2 (``ecg_simulate``, method ``"ecgsyn"`` for one lead, ``"multileads"`` for twelve). Returns a
    Record in mV with its R peaks (:func:`ecg_core.signal.rpeaks.detect_rpeaks` over every lead) as a ``qrs``
    annotation. (Not NeuroKit2's ``ecg_peaks`` on lead II: the multileads lead II has T waves several times its
    R waves, and ``ecg_peaks`` found 13 of a 20 s record's 30 beats there.)"""
    import neurokit2 as nk


    if leads not in (1, 12):
        raise ValueError("leads must be 1 or 12")
    if leads == 12:
        df = nk.ecg_simulate(duration=duration_s, sampling_rate=int(fs), heart_rate=heart_rate,
                             heart_rate_std=hr_std, method="multileads", random_state=seed)
        sig = np.asarray(df, dtype=np.float32).T
        names = list(STANDARD_12_LEADS)
    else:
        sig = np.asarray(nk.ecg_simulate(duration=duration_s, sampling_rate=int(fs), heart_rate=heart_rate,
                                         heart_rate_std=hr_std, method="ecgsyn", random_state=seed),
                         dtype=np.float32)[None]
        names = ["II"]
    sig = sig[:, :int(round(duration_s * fs))]
    r = detect_rpeaks(sig, float(fs))
    return Record(signal=sig, fs=float(fs), lead_names=tuple(names), name=f"ecgsyn {heart_rate:.0f} bpm seed {seed}",
                  metadata={"source": "synthetic (ECGSYN, NeuroKit2)"},
                  annotations={"qrs": Annotation(r, ("N",) * len(r), "qrs")})


# --- selectable pipeline -----------------------------------------------------------------------------------

def _wrap(fn, **kw):
    """A signal-only transform as a label-keeping one."""
    return lambda x, fs, rng, marks=None, labels=None: (fn(x, fs, rng, **kw), marks, labels)


def _random_noise(kind: str, lo: float, hi: float):
    return lambda x, fs, rng, marks=None, labels=None: (
        NOISE_KINDS[kind](x, fs, rng, snr_db=float(rng.uniform(lo, hi))), marks, labels)


#: every selectable transform: ``(x, fs, rng, marks=None, labels=None) -> (x, marks, labels)``
AUGMENTATIONS = {
    "amplitude": _wrap(amplitude_scale, low=0.5, high=2.0),
    "shift": shift,
    "time_warp": time_warp,
    "tachycardia": lambda x, fs, rng, marks=None, labels=None: time_scale(x, fs, float(rng.uniform(1.0, 1.6)),
                                                                          marks, labels),
    "baseline_wander": _random_noise("baseline_wander", 0, 15),
    "powerline": _random_noise("powerline", 10, 30),
    "muscle": _random_noise("muscle", 12, 30),
    "electrode_motion": _random_noise("electrode_motion", 12, 30),
    "gaussian": _random_noise("gaussian", 15, 30),
    "lead_dropout": lead_dropout,
    "invert": _wrap(invert),
    "band_stop": _wrap(band_stop),
    "spectral": _wrap(spectral_perturb),
}


class SignalAugmenter:
    """Applies each of ``ops`` (names in :data:`AUGMENTATIONS`) with probability ``p``, in order, keeping
    marks and label masks on their waves. ``tachycardia`` changes the length (crop afterwards)."""

    def __init__(self, ops: list[str] | tuple[str, ...], p: float = 0.5):
        bad = [o for o in ops if o not in AUGMENTATIONS]
        if bad:
            raise ValueError(f"unknown augmentation {', '.join(bad)}; valid: {', '.join(AUGMENTATIONS)}")
        self.ops, self.p = tuple(ops), p

    def __call__(self, x: np.ndarray, fs: float, rng: np.random.Generator, marks=None, labels=None):
        for op in self.ops:
            if rng.random() < self.p:
                x, marks, labels = AUGMENTATIONS[op](x, fs, rng, marks=marks, labels=labels)
        return np.asarray(x, dtype=np.float32), marks, labels


def augment_batch(x, fs: float, augmenter: SignalAugmenter, rng: np.random.Generator):
    """``augmenter`` applied to each example of a batch tensor ``(B, leads, T)``; an op that changes the
    length (tachycardia) is cropped or zero-padded back to ``T``. Returns a new tensor (same dtype)."""
    arr = x.detach().cpu().numpy()
    n = arr.shape[-1]
    out = np.empty_like(arr, dtype=np.float32)
    for i in range(len(arr)):
        y = augmenter(arr[i], fs, rng)[0]
        out[i] = y[..., :n] if y.shape[-1] >= n else np.pad(y, ((0, 0), (0, n - y.shape[-1])))
    import torch  # the on-device batch path only: this module is numpy (the CLI's parser reads it)

    return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)


class AugmentingTask:
    """For a training task: named transforms (``ops``) on one signal input of each training batch, with
    their own seeded random state (``rng``), which the shared loop saves with the run (``state_dict``)
    so a resumed run draws what the uninterrupted one would."""

    def __init__(self, augment_ops: tuple[str, ...] = (), seed: int = 0):
        self.ops = SignalAugmenter(augment_ops) if augment_ops else None
        self.rng = np.random.default_rng(seed)

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]

    def augmented(self, batch: dict, key: str, fs: float, training: bool) -> dict:
        """``batch`` with ``batch[key]`` transformed (only while training, and only with ops)."""
        if self.ops is None or not training or key not in batch:
            return batch
        return {**batch, key: augment_batch(batch[key], fs, self.ops, self.rng)}
