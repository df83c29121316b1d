"""P/QRS/T delineation: onsets, peaks and offsets of every wave in every lead.

A :class:`Delineation` holds, per lead, the P, QRS and T waves found (onset, peak, offset sample indices
at the record's rate) and gives a per-beat table that pairs each QRS with its P and T, where "absent"
(-1) is a valid answer (no P wave in atrial fibrillation). This module holds the classical method,
NeuroKit2's wavelet delineator (``ecg_delineate(method="dwt")`` after its own cleaning and R-peak
detection) run lead by lead behind an adapter, as a user of NeuroKit2 would; the learned one is
:func:`ecg_core.predict.delineation.delineate_learned`, and :func:`ecg_core.pipeline.delineate` is the
one call that picks either.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ECGError
from ..record import Record
from ..waves import WAVE_LABELS, WAVES, LeadWaves, waves_from_labels
from .compare import compare_beats
from .filters import bandpass
from .intervals import measure

__all__ = ["WAVES", "WAVE_LABELS", "LeadWaves", "Delineation", "waves_from_labels", "beat_table",
           "compare_delineations", "check_delineable", "delineate_neurokit", "display_signal", "flat_leads",
           "flat_warnings", "BEAT_COLUMNS", "DELINEATION_METHODS", "DELINEATION_FS"]

log = logging.getLogger(__name__)

DELINEATION_METHODS = ("unet", "neurokit_dwt")
DELINEATION_FS = 500.0  # the learned model's rate (LUDB's)
#: columns of :func:`beat_table`; -1 marks an absent wave or point
BEAT_COLUMNS = ("p_on", "p_peak", "p_off", "qrs_on", "q", "r", "s", "qrs_off", "t_on", "t_peak", "t_off")
_MIN_SECONDS = 2.0


@dataclass(frozen=True)
class Delineation:
    """Waves of every lead of a record. ``waves[i]`` belongs to ``lead_names[i]``; indices are samples at
    ``fs`` (an onset or offset of -1 is unknown: only the NeuroKit2 adapter leaves some). ``signal`` is
    the band-passed record the peaks were read on; ``probs`` (learned method only) the
    ``(4, n_leads, n_samples)`` class probabilities (background, P, QRS, T) at ``fs``."""

    fs: float
    lead_names: tuple[str, ...]
    waves: tuple[LeadWaves, ...]
    method: str
    signal: np.ndarray
    probs: np.ndarray | None = None
    warnings: tuple[str, ...] = ()

    def lead(self, name: str) -> LeadWaves:
        return self.waves[self.lead_names.index(name)]

    def beats(self, lead: int | str) -> np.ndarray:
        """Per-beat table of one lead (:data:`BEAT_COLUMNS`, -1 where absent)."""
        i = self.lead_names.index(lead) if isinstance(lead, str) else int(lead)
        return beat_table(self.waves[i], self.signal[i], self.fs)

    def counts(self) -> dict[str, int]:
        return {k: int(sum(len(w[k]) for w in self.waves)) for k in WAVES}

    def measure(self, sex: str | None = None, formula: str = "Bazett"):
        """Global intervals, QTc, axes and median beats (:func:`ecg_core.signal.intervals.measure`)."""
        return measure(self.signal, self.fs, self.lead_names, self.waves, sex=sex, formula=formula)


def beat_table(waves: LeadWaves, x: np.ndarray, fs: float) -> np.ndarray:
    """One row per QRS: its P (the last P wave between the previous QRS and this one), the QRS with Q and S
    points where present (a dip of at least 0.05 mV below the onset/offset level before / after R), and
    its T (the first T wave between this QRS and the next). Columns :data:`BEAT_COLUMNS`; -1 if absent."""
    qrs = waves["QRS"]
    table = np.full((len(qrs), len(BEAT_COLUMNS)), -1, dtype=np.int64)
    p, t = waves["P"], waves["T"]
    for i, (on, r, off) in enumerate(qrs):
        lo = on if on >= 0 else r  # unknown ends (-1) fall back to the peak
        hi = off if off >= 0 else r
        prev_end = max(qrs[i - 1, 2], qrs[i - 1, 1]) if i > 0 else -1
        next_start = (qrs[i + 1, 0] if qrs[i + 1, 0] >= 0 else qrs[i + 1, 1]) if i + 1 < len(qrs) else len(x)
        cand = p[(p[:, 1] > prev_end) & (p[:, 1] < lo)]
        if len(cand):
            table[i, 0:3] = cand[-1]
        table[i, 3], table[i, 5], table[i, 7] = on, r, off
        iso = 0.5 * (x[lo] + x[hi])
        if r > lo:
            q = lo + int(np.argmin(x[lo:r]))
            if x[q] < iso - 0.05:
                table[i, 4] = q
        if hi > r:
            s = r + 1 + int(np.argmin(x[r + 1:hi + 1]))
            if x[s] < iso - 0.05:
                table[i, 6] = s
        cand = t[(t[:, 1] > hi) & (t[:, 1] < next_start)]
        if len(cand):
            table[i, 8:11] = cand[0]
    return table


def compare_delineations(a: Delineation, b: Delineation, window_ms: float = 150.0) -> list[dict]:
    """Where two delineations of one record disagree: per lead and wave, how many each found, how many
    pair up (peaks within ``window_ms``), and the mean absolute onset / offset difference of the pairs
    (ms). Rows sorted with the largest disagreement first."""
    rows = []
    ms = 1000.0 / a.fs
    for i, lead in enumerate(a.lead_names):
        for kind in WAVES:
            wa, wb = a.waves[i][kind], b.waves[i][kind]
            wa, wb = wa[np.argsort(wa[:, 1], kind="stable")], wb[np.argsort(wb[:, 1], kind="stable")]
            c = compare_beats(wa[:, 1], wb[:, 1], a.fs, window_ms=window_ms)
            diffs = {}
            for name, col in (("onset", 0), ("offset", 2)):
                x, y = wa[c.matched_ref_idx, col], wb[c.matched_test_idx, col]
                ok = (x >= 0) & (y >= 0)
                diffs[name] = float(np.mean(np.abs(x[ok] - y[ok])) * ms) if ok.any() else float("nan")
            rows.append({"lead": lead, "wave": kind, a.method: len(wa), b.method: len(wb), "paired": c.tp,
                         "unpaired": c.fn + c.fp, "mean |Δ onset| (ms)": round(diffs["onset"], 1),
                         "mean |Δ offset| (ms)": round(diffs["offset"], 1)})
    rows.sort(key=lambda r: (-r["unpaired"], -np.nan_to_num(r["mean |Δ onset| (ms)"])))
    return rows


def flat_leads(record: Record) -> set[int]:
    """Leads under 10 µV peak to peak: no waves are marked in them."""
    return {i for i in range(record.n_leads) if np.ptp(record.signal[i]) < 1e-2}


def flat_warnings(record: Record, flat: set[int]) -> tuple[str, ...]:
    return tuple(f"lead {record.lead_names[i]} is flat (under 10 µV peak to peak): no waves marked in it"
                 for i in sorted(flat))


def display_signal(record: Record) -> np.ndarray:
    """The band-passed record (0.5 Hz to 100 Hz or 0.45 fs) that wave peaks are read on and drawn over."""
    return bandpass(record.signal, record.fs, 0.5, min(100.0, 0.45 * record.fs)).astype(np.float32)


def check_delineable(record: Record) -> None:
    """Raise ECGError, naming the problem, for a record no method can delineate: shorter than 2 s, holding
    missing values, or with every lead flat."""
    if record.duration_s < _MIN_SECONDS:
        raise ECGError(f"{record.name}: {record.duration_s:.1f} s is too short to delineate; "
                       f"at least {_MIN_SECONDS:.0f} s (two beats) are needed")
    if not np.isfinite(record.signal).all():
        raise ECGError(f"{record.name}: the signal holds missing values (NaN); fill or crop them first")
    if len(flat_leads(record)) == record.n_leads:
        raise ECGError(f"{record.name}: every lead is flat (under 10 µV peak to peak); nothing to delineate")


# --- NeuroKit2 adapter --------------------------------------------------------------------------------

def _nk_lead(x: np.ndarray, fs: float) -> LeadWaves:
    import neurokit2 as nk

    empty = np.zeros((0, 3), dtype=np.int64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clean = nk.ecg_clean(x, sampling_rate=int(round(fs)))
            _, info = nk.ecg_peaks(clean, sampling_rate=int(round(fs)))
            r = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
            if len(r) < 2:
                return LeadWaves(empty, empty, empty)
            _, d = nk.ecg_delineate(clean, r, sampling_rate=int(round(fs)), method="dwt")
    except Exception as exc:  # NeuroKit2 raises many kinds on hard leads: a lead with no waves
        log.info("neurokit dwt failed on a lead: %s", exc)
        return LeadWaves(empty, empty, empty)

    def trip(on, pk, off):
        """Waves with a peak; an onset or offset NeuroKit2 left out (NaN) or put on the wrong side of the
        peak is -1 (unknown), so the wave still counts as found."""
        rows = []
        for a, b, c in zip(on, pk, off):
            if not np.isfinite(b):
                continue
            a = int(a) if np.isfinite(a) and a <= b else -1
            c = int(c) if np.isfinite(c) and c >= b else -1
            rows.append((a, int(b), c))
        return np.array(rows, dtype=np.int64).reshape(-1, 3)

    n = len(r)

    def col(key):
        v = np.asarray(d.get(key, [np.nan] * n), dtype=np.float64)
        return v if len(v) == n else np.full(n, np.nan)

    return LeadWaves(P=trip(col("ECG_P_Onsets"), col("ECG_P_Peaks"), col("ECG_P_Offsets")),
                     QRS=trip(col("ECG_R_Onsets"), r.astype(np.float64), col("ECG_R_Offsets")),
                     T=trip(col("ECG_T_Onsets"), col("ECG_T_Peaks"), col("ECG_T_Offsets")))


def delineate_neurokit(record: Record) -> Delineation:
    """Every lead of ``record`` delineated by NeuroKit2's wavelet method (checks: :func:`check_delineable`)."""
    flat = flat_leads(record)
    empty = np.zeros((0, 3), dtype=np.int64)
    waves = tuple(LeadWaves(empty, empty, empty) if i in flat else _nk_lead(record.signal[i].astype(np.float64),
                                                                              record.fs)
                  for i in range(record.n_leads))
    return Delineation(record.fs, record.lead_names, waves, "neurokit_dwt", display_signal(record),
                       warnings=flat_warnings(record, flat))
