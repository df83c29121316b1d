"""P/QRS/T delineation: onsets, peaks and offsets of every wave in every lead.

``delineate(record, method=...)`` returns a :class:`Delineation`: per lead, the P, QRS and T waves found
(onset, peak, offset sample indices at the record's rate) and a per-beat table that pairs each QRS with
its P and T, where "absent" (-1) is a valid answer (no P wave in atrial fibrillation). Methods:

* ``"unet"`` (default): this project's learned segmentation model (:mod:`ecg_core.models.unet1d`),
  trained on LUDB with all 12 leads together (``weights/delineation_unet.pt``); leads a record lacks are
  given as zeros, which the model was trained to expect.
* ``"neurokit_dwt"``: NeuroKit2's wavelet delineator (``ecg_delineate(method="dwt")`` after its own
  cleaning and R-peak detection), run lead by lead behind an adapter, as a user of NeuroKit2 would.

A segmentation becomes waves by :func:`waves_from_labels`: runs of one label, too-short runs dropped,
small gaps closed; the QRS peak is the R wave (the largest positive deflection, as LUDB marks it), P and
T peaks the largest deflection from the line joining the wave's ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ECGError
from ..record import Record

__all__ = ["WAVES", "WAVE_LABELS", "LeadWaves", "Delineation", "delineate", "waves_from_labels", "beat_table",
           "compare_delineations",
           "BEAT_COLUMNS", "DELINEATION_METHODS", "DELINEATION_FS"]

log = logging.getLogger(__name__)

#: wave kinds, in the order of segmentation labels 1, 2, 3 (0 is background)
WAVES = ("P", "QRS", "T")
WAVE_LABELS = {"P": 1, "QRS": 2, "T": 3}


@dataclass(frozen=True)
class LeadWaves:
    """Waves of one lead: for each kind in :data:`WAVES`, an ``(n, 3)`` int64 array of onset, peak and
    offset sample indices, sorted by peak (-1: an onset or offset not known)."""

    P: np.ndarray
    QRS: np.ndarray
    T: np.ndarray

    def __getitem__(self, kind: str) -> np.ndarray:
        return getattr(self, kind)

    def count(self) -> dict[str, int]:
        return {k: len(self[k]) for k in WAVES}

DELINEATION_METHODS = ("unet", "neurokit_dwt")
DELINEATION_FS = 500.0  # the learned model's rate (LUDB's)
#: columns of :func:`beat_table`; -1 marks an absent wave or point
BEAT_COLUMNS = ("p_on", "p_peak", "p_off", "qrs_on", "q", "r", "s", "qrs_off", "t_on", "t_peak", "t_off")
_MIN_MS = {"P": 20.0, "QRS": 30.0, "T": 40.0}
_GAP_MS = 16.0
_MIN_SECONDS = 2.0


@dataclass(frozen=True)
class Delineation:
    """Waves of every lead of a record. ``waves[i]`` belongs to ``lead_names[i]``; indices are samples at
    ``fs`` (an onset or offset of -1 is unknown: only the NeuroKit2 adapter leaves some). ``signal`` is
    the band-passed record the peaks were read on; ``probs`` (learned method only) the
    ``(4, n_leads, n_samples)`` class probabilities (background, P, QRS, T) at ``fs``. ``global_waves``
    (a learned model with a global row only): the waves of all leads together, one per beat, whose
    boundaries the global fiducials and the measurements then use."""

    fs: float
    lead_names: tuple[str, ...]
    waves: tuple[LeadWaves, ...]
    method: str
    signal: np.ndarray
    probs: np.ndarray | None = None
    warnings: tuple[str, ...] = ()
    global_waves: LeadWaves | None = None

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
        from .intervals import measure

        return measure(self.signal, self.fs, self.lead_names, self.waves, sex=sex, formula=formula,
                       global_waves=self.global_waves)


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(n, 2)`` start and end (inclusive) of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1], axis=1)


def _peak(x: np.ndarray, on: int, off: int, kind: str) -> int:
    seg = x[on:off + 1]
    if kind == "QRS":
        return on + int(np.argmax(seg))
    line = np.linspace(seg[0], seg[-1], len(seg))
    return on + int(np.argmax(np.abs(seg - line)))


def waves_from_labels(labels: np.ndarray, x: np.ndarray, fs: float) -> LeadWaves:
    """Waves of one lead from its sample labels (0 background, 1 P, 2 QRS, 3 T) and its signal ``x``
    (for the peaks). Runs shorter than a physiological minimum (P 20, QRS 30, T 40 ms) are dropped and
    gaps up to 16 ms inside a wave are closed."""
    labels = np.asarray(labels)
    gap = int(round(_GAP_MS / 1000 * fs))
    out = {}
    for kind in WAVES:
        m = labels == WAVE_LABELS[kind]
        runs = _runs(m)
        if len(runs) > 1 and gap > 0:  # close short gaps
            merged = [runs[0].copy()]
            for a, b in runs[1:]:
                if a - merged[-1][1] - 1 <= gap:
                    merged[-1][1] = b
                else:
                    merged.append(np.array([a, b]))
            runs = np.array(merged)
        min_len = _MIN_MS[kind] / 1000 * fs
        runs = runs[(runs[:, 1] - runs[:, 0] + 1) >= min_len] if len(runs) else runs
        out[kind] = np.array([(a, _peak(x, a, b, kind), b) for a, b in runs], dtype=np.int64).reshape(-1, 3)
    return LeadWaves(**out)


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
    from .compare import compare_beats

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


# --- learned method -----------------------------------------------------------------------------------

_MODEL_CACHE: dict[str, object] = {}


def default_weights() -> Path:
    return Path(__file__).resolve().parents[2] / "weights" / "delineation_unet.pt"


def _learned_model(weights: str | Path | None):
    from ..train.delineation import load_delineation_model

    path = str(weights or default_weights())
    if path not in _MODEL_CACHE:
        if not Path(path).exists():
            raise ECGError(f"the learned delineator's weights are missing ({Path(path).name}); "
                           "train them with `python -m ecg_core train delineation` or use method='neurokit_dwt'")
        _MODEL_CACHE[path] = load_delineation_model(path)
    return _MODEL_CACHE[path]


def held_out_delineators(records, weights: str | Path | None = None) -> dict:
    """Each LUDB record of ``records`` -> the learned delineator's fold model that never saw it (the
    ensemble's member trained without that record's fold): for scoring anything built on delineation."""
    from ..data.ludb import ludb_folds

    members = _learned_model(weights)[0].members
    fold_of = {r: k for k, f in enumerate(ludb_folds()) for r in f}
    return {r: members[fold_of[r]] for r in records}


def _delineate_unet(record: Record, weights: str | Path | None, model=None) -> Delineation:
    from ..train.delineation import model_input, predict_probs

    if model is None:
        model, _, _ = _learned_model(weights)
    slots = _lead_slots(record.lead_names)
    # leads that would share a slot (two unnamed leads, say) go through in separate passes
    passes: list[list[int]] = []
    for i, slot in enumerate(slots):
        for group in passes:
            if slot not in {slots[j] for j in group}:
                group.append(i)
                break
        else:
            passes.append([i])
    probs = np.zeros((4, record.n_leads, record.n_samples), dtype=np.float32)
    global_p = None
    for group in passes:
        sub = record if len(group) == record.n_leads else record.replace(
            signal=record.signal[group], lead_names=tuple(record.lead_names[j] for j in group), units=())
        x, fs_in = model_input(sub)
        full = predict_probs(model, x)  # (4, rows, n) at 500 Hz: the 12 lead slots, then a global row if any
        with_global = full.shape[1] > x.shape[0] and len(passes) == 1  # only when all leads went through together
        p = full[:, [slots[j] for j in group] + ([x.shape[0]] if with_global else [])]
        if fs_in != record.fs:
            from scipy.interpolate import interp1d

            t_model = np.arange(p.shape[-1]) / fs_in
            t_rec = np.arange(record.n_samples) / record.fs
            p = interp1d(t_model, p, axis=-1, bounds_error=False, fill_value=(p[..., 0], p[..., -1]),
                         assume_sorted=True)(t_rec)
        probs[:, group] = p[:, :len(group)]
        if with_global:
            global_p = p[:, -1]
    sig = _display_signal(record)
    labels = probs.argmax(axis=0)
    flat = _flat_leads(record)
    empty = np.zeros((0, 3), dtype=np.int64)
    waves = tuple(LeadWaves(empty, empty, empty) if i in flat else waves_from_labels(labels[i], sig[i], record.fs)
                  for i in range(record.n_leads))
    global_waves = None
    if global_p is not None and len(flat) < record.n_leads:
        live = [i for i in range(record.n_leads) if i not in flat]
        magnitude = np.sqrt((sig[live] ** 2).sum(axis=0))  # peaks of the global waves: the spatial magnitude
        global_waves = waves_from_labels(global_p.argmax(axis=0), magnitude, record.fs)
    return Delineation(record.fs, record.lead_names, waves, "unet", sig, probs, _flat_warnings(record, flat),
                       global_waves)


def _flat_leads(record: Record) -> set[int]:
    return {i for i in range(record.n_leads) if np.ptp(record.signal[i]) < 1e-2}


def _flat_warnings(record: Record, flat: set[int]) -> tuple[str, ...]:
    return tuple(f"lead {record.lead_names[i]} is flat (under 10 µV peak to peak): no waves marked in it"
                 for i in sorted(flat))


def _lead_slots(names: tuple[str, ...]) -> list[int]:
    """Which of the model's 12 standard lead slots each lead of a record fills (MLII -> II, MLI -> I,
    an unknown name -> II, the lead that shows P waves best)."""
    from ..data.ludb import LUDB_LEADS

    alias = {"MLII": "II", "MLI": "I", "MLIII": "III", "ECG": "II"}
    out = []
    for n in names:
        n = alias.get(n, n)
        out.append(LUDB_LEADS.index(n) if n in LUDB_LEADS else LUDB_LEADS.index("II"))
    return out


def _display_signal(record: Record) -> np.ndarray:
    from .filters import bandpass

    return bandpass(record.signal, record.fs, 0.5, min(100.0, 0.45 * record.fs)).astype(np.float32)


# --- NeuroKit2 adapter --------------------------------------------------------------------------------

def _nk_lead(x: np.ndarray, fs: float) -> LeadWaves:
    import warnings

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


def _delineate_nk(record: Record) -> Delineation:
    flat = _flat_leads(record)
    empty = np.zeros((0, 3), dtype=np.int64)
    waves = tuple(LeadWaves(empty, empty, empty) if i in flat else _nk_lead(record.signal[i].astype(np.float64),
                                                                              record.fs)
                  for i in range(record.n_leads))
    return Delineation(record.fs, record.lead_names, waves, "neurokit_dwt", _display_signal(record),
                       warnings=_flat_warnings(record, flat))


def delineate(record: Record, method: str = "unet", *, weights: str | Path | None = None,
              model=None) -> Delineation:
    """Delineate every lead of ``record`` with ``method`` (:data:`DELINEATION_METHODS`).

    Raises:
        ECGError: a record shorter than 2 s, or with no signal at all (every lead flat), with a message
            naming the problem; ValueError for an unknown method.
    """
    if method not in DELINEATION_METHODS:
        raise ValueError(f"unknown delineation method {method!r}; valid: {', '.join(DELINEATION_METHODS)}")
    if record.duration_s < _MIN_SECONDS:
        raise ECGError(f"{record.name}: {record.duration_s:.1f} s is too short to delineate; "
                       f"at least {_MIN_SECONDS:.0f} s (two beats) are needed")
    if not np.isfinite(record.signal).all():
        raise ECGError(f"{record.name}: the signal holds missing values (NaN); fill or crop them first")
    if len(_flat_leads(record)) == record.n_leads:
        raise ECGError(f"{record.name}: every lead is flat (under 10 µV peak to peak); nothing to delineate")
    if method == "neurokit_dwt":
        return _delineate_nk(record)
    return _delineate_unet(record, weights, model)
