"""Per-lead signal quality: flat, saturated, noisy, or good, with the numbers behind the verdict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..waves import runs
from .filters import bandpass

__all__ = ["LeadQuality", "Stretch", "bad_stretches", "lead_quality", "usable_runs"]

#: a stretch whose QRS band (5-20 Hz) moves less than this (mV, peak to peak, every 0.5 s) holds no QRS
QUIET_MV = 0.02
#: a stretch of windows under this (mV) with a median under QUIET_MV is quiet (a lone spike does not
#: break it); another lead shows beats where its windows reach it (the lowest QRS in the band: ~0.09 mV)
WEAK_MV = 0.05
#: ... for at least this long (s) while another lead shows beats: the lead is disconnected there
QUIET_MIN_S = 2.0
#: ... or this long (s) on every lead: longer than any pause a recording shows (MIT-BIH 232's reach 6 s)
QUIET_ALONE_S = 10.0
#: an exactly constant stretch this long (s) is a disconnected or clipped lead (no amplifier output is)
CONSTANT_MIN_S = 0.5
#: QRS-band swings above this (mV peak to peak in 0.5 s) are artefact: no QRS complex reaches it
IMPLAUSIBLE_MV = 10.0
#: a piece of signal shorter than this (s) between two bad stretches (a loose electrode flickering) is not
#: analysable either
ISLAND_S = 10.0


@dataclass(frozen=True)
class Stretch:
    """Part of a lead that holds no usable ECG: ``kind`` ``"flat"`` (no signal, disconnected),
    ``"saturated"`` (held at the lead's limit) or ``"artefact"`` (swings no ECG makes), in seconds."""

    lead: str
    kind: str
    start_s: float
    stop_s: float

    def __str__(self) -> str:
        return f"{self.lead} {self.kind} {self.start_s:.1f}–{self.stop_s:.1f} s"


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
    stretches: tuple[Stretch, ...] = ()

    @property
    def detail(self) -> str:
        """The stretches in words (``"flat 0.0–2.7 s"``), empty when there are none."""
        return "; ".join(f"{x.kind} {x.start_s:.1f}–{x.stop_s:.1f} s" for x in self.stretches)


def lead_quality(signal: np.ndarray, fs: float, lead_names: tuple[str, ...] | list[str]) -> list[LeadQuality]:
    """Judge each lead of ``signal`` ``(n_leads, n_samples)`` in mV.

    Flat: range under 0.01 mV. Saturated: over 5 % of samples at the lead's extreme values. Noisy:
    under 80 % of 2-s windows pass the noise and wander limits. A lead with :func:`bad_stretches` is
    labelled ``"partly flat"`` (``partly saturated``, ``partly artefact``), or by the stretches' kind when
    they cover over 90 % of it; its score is scaled by the part left, and ``stretches`` lists them.
    """
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    win = max(1, int(2 * fs))
    k = max(1, x.shape[1] // win)
    hf = x - bandpass(x, fs, None, 40.0) if fs > 90 else np.zeros_like(x)
    lf = bandpass(x, fs, None, 0.7)
    stretches = bad_stretches(x, fs, lead_names)
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
        bad = tuple(stretches[i]) if label not in ("flat", "saturated") else ()
        if bad:
            covered = sum(b.stop_s - b.start_s for b in bad) / max(x.shape[1] / fs, 1e-9)
            label = bad[0].kind if covered > 0.9 else "partly " + "/".join(dict.fromkeys(b.kind for b in bad))
            score *= max(0.0, 1.0 - covered)
        out.append(LeadQuality(str(name), label, score, float(np.median(noise_w)), rng, clipped, bad))
    return out


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(n, 2)`` ``[start, stop)`` of the True runs of a 1-D boolean array (:func:`ecg_core.waves.runs`,
    whose ends are inclusive)."""
    r = runs(mask)
    r[:, 1] += 1
    return r


def _lead_stretches(x: np.ndarray, band: np.ndarray, fs: float,
                    active_elsewhere: np.ndarray | None) -> list[tuple[str, int, int]]:
    """Bad stretches of one lead as ``(kind, start, stop)`` samples; ``active_elsewhere``: per 0.5-s
    window, whether another lead shows QRS energy there (``None`` for a one-lead record)."""
    n = len(x)
    marks = np.zeros(n, dtype=np.int8)  # 0 usable, 1 flat, 2 saturated, 3 artefact
    # exactly constant runs: flat, or saturated when held at the lead's extreme value
    const = np.concatenate([[False], np.diff(x) == 0])
    const[:-1] |= const[1:]
    lo, hi = float(x.min()), float(x.max())
    const_runs = _runs(const)
    for a, b in const_runs[const_runs[:, 1] - const_runs[:, 0] >= CONSTANT_MIN_S * fs]:
        marks[a:b] = 2 if x[a] in (lo, hi) and hi - lo > 0.01 and (b - a) < 0.9 * n else 1
    # windows of 0.5 s: quiet (no QRS energy) for long enough, or swinging beyond any ECG
    w = max(1, int(0.5 * fs))
    k = n // w
    if k:
        blocks = band[: k * w].reshape(k, w)
        ptp = blocks.max(axis=1) - blocks.min(axis=1)
        for a, b in _runs(ptp < WEAK_MV):  # weak windows; flat where they are mostly quiet
            if np.median(ptp[a:b]) >= QUIET_MV:
                continue
            dur = (b - a) * w / fs
            elsewhere = active_elsewhere is not None and active_elsewhere[a:b].mean() >= 0.5
            if dur >= QUIET_ALONE_S or (dur >= QUIET_MIN_S and elsewhere):  # else a pause, not a lead off
                seg = marks[a * w: b * w]
                seg[seg == 0] = 1
        # clipping: plateaus of at least 40 ms at one value, far from the lead's median, recurring (the
        # converter's rail); every 0.5-s window that touches such a value is saturated
        plateaus = const_runs[const_runs[:, 1] - const_runs[:, 0] >= max(3, 0.04 * fs)]
        vals, counts = np.unique(x[plateaus[:, 0]], return_counts=True)
        med = float(np.median(x))
        rails = [v for v, c in zip(vals, counts) if c >= 3 and abs(v - med) >= 2.0]
        if rails:
            hits = np.isin(x[: k * w], rails).reshape(k, w).sum(axis=1)
            for a, b in _runs(hits >= 1):
                seg = marks[max(0, a * w - w // 2): min(n, b * w + w // 2)]
                seg[seg == 0] = 2
        for a, b in _runs(ptp > IMPLAUSIBLE_MV):
            seg = marks[max(0, a * w - w // 2): min(n, b * w + w // 2)]
            seg[seg == 0] = 3
    # short islands of signal between bad stretches are not analysable either
    for a, b in _runs(marks == 0):
        if b - a < ISLAND_S * fs and a > 0 and b < n:
            marks[a:b] = marks[a - 1]
    kinds = {1: "flat", 2: "saturated", 3: "artefact"}
    out = []
    for code, kind in kinds.items():
        out += [(kind, a, b) for a, b in _runs(marks == code)]
    return sorted(out, key=lambda t: t[1])


def bad_stretches(signal: np.ndarray, fs: float, lead_names) -> list[list[Stretch]]:
    """Per lead, the stretches that hold no usable ECG (see :class:`Stretch`), in time order.

    Rules (each a property of the amplifier output, not of one recorder):

    * flat: an exactly constant run of at least 0.5 s; or a QRS band (5-20 Hz) quieter than 0.02 mV peak
      to peak (median of 0.5-s windows, none over 0.05) for at least 2 s while another lead shows beats,
      or for 10 s on its own (a disconnected lead carries quantisation noise only; every lead quiet for a
      few seconds is a pause, and stays in the record);
    * saturated: 0.5-s windows that touch a clipping rail (a value at least 2 mV from the lead's median,
      held for 40 ms or more, three times or more);
    * artefact: QRS-band swings over 10 mV in 0.5 s;
    * a piece shorter than 10 s between bad stretches takes their kind.

    Written here because NeuroKit2's ``ecg_quality`` rates whole signals against a template of detected
    beats, which a flat or clipped stretch does not give.
    """
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    high = min(20.0, 0.45 * fs)
    band = bandpass(x, fs, 5.0, high) if high > 5.0 else x - np.median(x, axis=1, keepdims=True)
    w = max(1, int(0.5 * fs))
    k = x.shape[1] // w
    blocks = band[:, : k * w].reshape(x.shape[0], k, w)
    active = (blocks.max(axis=-1) - blocks.min(axis=-1)) >= WEAK_MV  # (n_leads, k)
    out = []
    for i, name in enumerate(lead_names):
        elsewhere = np.delete(active, i, axis=0).any(axis=0) if x.shape[0] > 1 else None
        out.append([Stretch(str(name), kind, a / fs, b / fs)
                    for kind, a, b in _lead_stretches(x[i], band[i], fs, elsewhere)])
    return out


def usable_runs(quality: list[LeadQuality], n_samples: int, fs: float) -> list[tuple[int, int, tuple[int, ...]]]:
    """The record cut where the set of usable leads changes: ``(start, stop, lead indices)`` with the
    leads that are neither wholly flat/saturated nor inside one of their bad stretches there. A run with
    no lead is not analysable."""
    ok = np.ones((len(quality), n_samples), dtype=bool)
    for i, q in enumerate(quality):
        if q.label in ("flat", "saturated", "artefact"):
            ok[i] = False
        for st in q.stretches:
            ok[i, int(round(st.start_s * fs)): int(round(st.stop_s * fs))] = False
    change = np.flatnonzero(np.any(ok[:, 1:] != ok[:, :-1], axis=0)) + 1
    edges = [0, *change.tolist(), n_samples]
    return [(a, b, tuple(np.flatnonzero(ok[:, a]).tolist())) for a, b in zip(edges[:-1], edges[1:]) if b > a]
