"""``analyse(record) -> Analysis``: the one call the pages and the CLI make for a full read."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ECGError
from .interpret import Facts, Interpretation, Learned, facts_from, interpret
from .record import Annotation, Record, rhythm_lead
from .signal import (
    HeartRate,
    LeadQuality,
    clean,
    detect_rpeaks,
    heart_rate,
    lead_quality,
    matched_symbols,
    rr_series,
    usable_runs,
)
from .signal.delineation import DELINEATION_METHODS, Delineation, check_delineable, delineate_neurokit
from .signal.intervals import Measurements
from .signal.pacing import pacing_spikes

__all__ = ["FilterSettings", "Analysis", "analyse", "delineate", "rhythm_lead", "Read", "read"]

log = logging.getLogger(__name__)

_RUN_CONTEXT_S = 5.0


@dataclass(frozen=True)
class FilterSettings:
    """Display and analysis filter: band-pass (Hz, ``None`` to skip a side) and optional mains notch."""

    low_hz: float | None = 0.5
    high_hz: float | None = 40.0
    notch_hz: float | None = None


@dataclass(frozen=True)
class Analysis:
    """What one read of a record found.

    ``r_idx`` are sample indices; ``beats`` is a table with one row per beat (time, RR, rate, reference
    label where the record carries reference annotations). ``rhythm_lead`` names the lead beats were
    detected on first. ``not_analysable``: ``(start_s, stop_s)`` stretches where no lead held usable ECG
    (no beats are sought there, and no RR interval spans them).
    """

    record: Record
    filtered: np.ndarray
    filter: FilterSettings
    r_idx: np.ndarray
    heart_rate: HeartRate
    quality: list[LeadQuality]
    rhythm_lead: str
    method: str
    beats: pd.DataFrame = field(repr=False)
    not_analysable: tuple[tuple[float, float], ...] = ()

    def quality_notes(self) -> list[str]:
        """What the reader should know about the signal, in words: each lead's bad stretches
        (``"V flat 0.0–2.7 s"``) and the stretches no lead could be read in."""
        out = [str(st) for q in self.quality for st in q.stretches]
        out += [f"not analysable {a:.1f}–{b:.1f} s (no usable lead)" for a, b in self.not_analysable]
        return out

    def beat_annotation(self) -> Annotation:
        """Detected beats as a WFDB-style annotation (symbol ``N`` or the matched reference label)."""
        return Annotation(self.r_idx, tuple(self.beats["label"].fillna("N").replace("", "N")), "qrs")


def analyse(record: Record, filter: FilterSettings | None = None, method: str = "ecgcore") -> Analysis:
    """Filter ``record``, detect beats on all usable leads (rhythm lead first), measure heart rate and
    per-lead quality, and tabulate the beats.

    Where a lead is flat, saturated or artefact for part of the record
    (:func:`~ecg_core.signal.quality.bad_stretches`), the record is cut where the set of usable leads
    changes and each run is read on its own usable leads; a run with none is not analysable.

    Beats are detected on the unfiltered signal (the detector has its own band-pass), so the display
    filter never changes what counts as a beat.
    """
    filter = filter or FilterSettings()
    filtered = clean(record.signal, record.fs, filter.low_hz, filter.high_hz, filter.notch_hz)
    quality = lead_quality(record.signal, record.fs, record.lead_names)
    lead0 = rhythm_lead(record)
    runs = usable_runs(quality, record.n_samples, record.fs)
    if len(runs) == 1 and not runs[0][2]:
        runs = [(0, record.n_samples, (lead0,))]  # every lead wholly bad: try the rhythm lead anyway
    peaks, first = [], None
    pad = int(_RUN_CONTEXT_S * record.fs)
    for j, (a, b, leads) in enumerate(runs):
        if not leads:
            continue
        order = [lead0] + [i for i in leads if i != lead0] if lead0 in leads else list(leads)
        first = order[0] if first is None else first
        # each run is detected with up to 5 s of context either side where its leads are still usable
        # (the detector learns its thresholds there, not on the run's first beats); its beats are kept
        lo, k = a, j - 1
        while k >= 0 and set(leads) <= set(runs[k][2]) and a - lo < pad:
            lo = max(runs[k][0], a - pad)
            k -= 1
        hi, k = b, j + 1
        while k < len(runs) and set(leads) <= set(runs[k][2]) and hi - b < pad:
            hi = min(runs[k][1], b + pad)
            k += 1
        r = detect_rpeaks(record.signal[order, lo:hi], record.fs, method=method) + lo
        peaks.append(r[(r >= a) & (r < b)])
    r_idx = _merge_peaks(peaks, int(0.2 * record.fs))
    gaps = [(a, b) for a, b, leads in runs if not leads]
    hr = heart_rate(r_idx, record.fs, exclude=gaps)
    beats = _beat_table(record, r_idx, gaps)
    return Analysis(record=record, filtered=filtered, filter=filter, r_idx=r_idx, heart_rate=hr,
                    quality=quality, rhythm_lead=record.lead_names[first if first is not None else lead0],
                    method=method, beats=beats,
                    not_analysable=tuple((a / record.fs, b / record.fs) for a, b in gaps))


def _merge_peaks(parts: list[np.ndarray], refractory: int) -> np.ndarray:
    """R peaks of consecutive runs joined; a beat found on both sides of a run boundary counts once."""
    if len(parts) < 2:  # one run: the detector's own beats
        return parts[0].astype(np.int64) if parts else np.empty(0, dtype=np.int64)
    r = np.sort(np.concatenate(parts))
    if len(r) < 2:
        return r.astype(np.int64)
    keep = np.concatenate([[True], np.diff(r) >= refractory])
    return r[keep].astype(np.int64)


def _beat_table(record: Record, r_idx: np.ndarray, gaps=()) -> pd.DataFrame:
    fs = record.fs
    rr = rr_series(r_idx, fs, gaps)
    rr_s = np.concatenate([[np.nan], rr])
    df = pd.DataFrame({
        "beat": np.arange(1, len(r_idx) + 1),
        "sample_idx": r_idx,
        "time_s": np.round(r_idx / fs, 3),
        "rr_s": np.round(rr_s, 3),
        "hr_bpm": np.round(60.0 / rr_s, 1),
    })
    ref = record.annotations.get("atr")
    if ref is not None:
        beats = ref.beats()
        labels = matched_symbols(beats.sample_idx, beats.symbol, r_idx, fs)
        df["label"] = labels
        df["label_source"] = np.where(labels != "", "reference", "")
    else:
        df["label"] = ""
        df["label_source"] = ""
    return df



def delineate(record: Record, method: str = "unet", *, weights=None, model=None) -> Delineation:
    """Delineate every lead of ``record`` with ``method`` (:data:`DELINEATION_METHODS`): ``"unet"`` (default)
    the project's learned 12-lead model (:func:`ecg_core.predict.delineation.delineate_learned`; ``weights``
    or ``model`` pick another than the shipped one), ``"neurokit_dwt"`` NeuroKit2's wavelet delineator.

    Raises:
        ECGError: a record shorter than 2 s, with missing values, or with every lead flat, with a message
            naming the problem; ValueError for an unknown method.
    """
    if method not in DELINEATION_METHODS:
        raise ValueError(f"unknown delineation method {method!r}; valid: {', '.join(DELINEATION_METHODS)}")
    check_delineable(record)
    if method == "neurokit_dwt":
        return delineate_neurokit(record)
    from .predict.delineation import delineate_learned  # torch: only the learned method pays for importing it

    return delineate_learned(record, weights, model)


@dataclass(frozen=True)
class Read:
    """The whole read of one record, as a printout gives it: its delineation, global measurements (with
    median beats), lead quality, beat classes (None when no beat model was given or too few beats), the
    facts the criteria read and the interpretation."""

    record: Record
    delineation: Delineation
    measurements: Measurements
    quality: list[LeadQuality]
    beats: object | None
    facts: Facts
    interpretation: Interpretation
    learned: object | None = None


def read(record: Record, method: str = "unet", *, model=None, beat_model=None, statement_model=None,
         formula: str = "Bazett") -> Read:
    """Delineate ``record`` (``method``, ``model`` as :func:`delineate`), measure it, classify its beats
    (``beat_model``: ``(model, spec)`` of :func:`ecg_core.predict.beats.load_beat_model`; skipped when None),
    read the learned statements (``statement_model``: ``(members, spec, card)`` of
    :func:`ecg_core.predict.diagnosis.load_multimodal` on :func:`~ecg_core.predict.diagnosis.statement_weights`;
    skipped when None, or for a record that is not 10 s of the 12 standard leads; ``Read.learned`` holds its
    :class:`~ecg_core.predict.diagnosis.Diagnosis`) and interpret it (:func:`ecg_core.interpret.interpret`),
    with the age and sex its metadata gives.

    Raises:
        ECGError: as :func:`delineate`, for a record that cannot be delineated.
    """
    d = delineate(record, method, model=model)
    sex = str(record.metadata.get("sex") or "").upper()[:1] or None
    age = record.metadata.get("age")
    try:
        age = float(age) if age is not None else None
    except (TypeError, ValueError):
        age = None
    m = d.measure(sex=sex, formula=formula)
    quality = lead_quality(record.signal, record.fs, record.lead_names)
    poor = tuple(q.lead for q in quality if q.label in ("noisy", "flat", "saturated", "artefact"))
    beats = None
    if beat_model is not None:
        from .predict.beats import classify_beats  # torch: only a read with beat classes loads it

        try:
            beats = classify_beats(record, np.round(m.beat_fiducials[:, 3]).astype(np.int64), *beat_model)
        except ECGError as exc:
            log.info("no beat classes for %s: %s", record.name, exc)
    pulses = pacing_spikes(record.signal, record.fs)
    facts = facts_from(d, m, sex=sex, age=age, beat_labels=None if beats is None else list(beats.labels),
                       poor_leads=poor, formula=formula, pulses=pulses)
    diagnosis, learned = None, None
    if statement_model is not None:
        from .predict.diagnosis import diagnose  # torch: only a read with learned statements loads it

        try:
            diagnosis = diagnose(record, *statement_model, explain=())
        except ECGError as exc:
            log.info("no learned statements for %s: %s", record.name, exc)
        else:
            learned = {c: Learned(float(p), float(sd), bool(u)) for c, p, sd, u in
                       zip(diagnosis.classes, diagnosis.probability, diagnosis.spread, diagnosis.uncertain)}
    return Read(record, d, m, quality, beats, facts, interpret(facts, learned=learned), diagnosis)
