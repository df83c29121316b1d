"""The named measurements of one record that interpretive criteria read (:class:`Facts`), built from its
delineation: global intervals and axes, the rhythm's regularity and P waves, each lead's median-beat
measures, beat classes, lead quality, age and sex."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..signal.intervals import Measurements
from .measures import LeadMeasures, lead_measures

__all__ = ["Facts", "rhythm_facts", "paced_fraction", "facts_from"]

_NAN = float("nan")


@dataclass(frozen=True)
class Facts:
    """Everything a criterion may read. Intervals in ms, rates in bpm, amplitudes in mV, axes in degrees
    (NaN when not measured). ``leads``: each lead's :class:`LeadMeasures` by upper-case name (a lead the record
    lacks reads as all-NaN). ``rr_irregularity``: RMSSD of the RR intervals over their mean, the largest and
    smallest RR left out (Dash et al. 2009); ``p_fraction``: the share of beats with a P wave before them;
    ``rr_range_ms``: the longest minus the shortest RR; ``beat_counts``: beats per class (``N S V F Q``)
    when beat classes were read, else None; ``poor_leads``: leads rated noisy, flat or saturated;
    ``paced_fraction``: the share of beats a pacing pulse precedes (:func:`~ecg_core.signal.pacing.pacing_spikes`
    within 250 ms before R)."""

    hr: float = _NAN
    rr_ms: float = _NAN
    rr_range_ms: float = _NAN
    rr_irregularity: float = _NAN
    n_beats: int = 0
    p_fraction: float = _NAN
    pr_sd_ms: float = _NAN
    p_ms: float = _NAN
    pr: float = _NAN
    qrs: float = _NAN
    qt: float = _NAN
    qtc: float = _NAN
    qtc_formula: str = "Bazett"
    p_axis: float = _NAN
    qrs_axis: float = _NAN
    t_axis: float = _NAN
    sex: str | None = None
    age: float | None = None
    leads: dict[str, LeadMeasures] = field(default_factory=dict)
    beat_counts: dict[str, int] | None = None
    #: the longest run of successive (normal, ectopic) beat pairs, by ectopic class ("V", "S"), when beat
    #: classes were read (:func:`bigeminy_pairs`)
    bigeminy: dict[str, int] | None = None
    poor_leads: tuple[str, ...] = ()
    n_leads: int = 0
    #: the share of QRS complexes with a pacing pulse in the 250 ms before their R, and the pulses found
    paced_fraction: float = 0.0
    n_pulses: int = 0

    def lead(self, name: str) -> LeadMeasures:
        return self.leads.get(name.upper()) or LeadMeasures(name, r_mv=_NAN, s_mv=_NAN, q_mv=_NAN, q_ms=_NAN)

    def has(self, *names: str) -> bool:
        return all(n.upper() in self.leads for n in names)


def rhythm_facts(r: np.ndarray, p_on: np.ndarray, pr_ms: np.ndarray, fs: float,
                 normal: np.ndarray | None = None) -> dict:
    """RR regularity and P waves of a record's beats (``r``: R samples; ``p_on``: each beat's P onset or
    NaN; ``pr_ms``: each beat's PR or NaN). ``normal`` (one flag per beat, from the beat classes): the
    underlying rhythm is judged on normal beats only, its RR intervals those between two of them, as a
    reader sets ectopic beats and their pauses aside."""
    r, p_on, pr_ms = np.asarray(r, float), np.asarray(p_on, float), np.asarray(pr_ms, float)
    keep = np.ones(len(r), bool) if normal is None or len(normal) != len(r) else np.asarray(normal, bool)
    out = {"n_beats": int(len(r)), "p_fraction": float(np.isfinite(p_on[keep]).mean()) if keep.any() else _NAN}
    rr = (np.diff(r) * 1000.0 / fs)[keep[1:] & keep[:-1]]
    if len(rr) >= 2:
        out["rr_range_ms"] = float(rr.max() - rr.min())
        trimmed = np.sort(rr)[1:-1] if len(rr) >= 5 else rr  # Dash et al.: outliers (the extremes) dropped
        kept = rr[(rr >= trimmed.min()) & (rr <= trimmed.max())]
        d = np.diff(kept)
        out["rr_irregularity"] = float(np.sqrt(np.mean(d ** 2)) / kept.mean()) if len(d) else _NAN
    pr = pr_ms[keep & np.isfinite(pr_ms)]
    out["pr_sd_ms"] = float(np.std(pr)) if len(pr) >= 3 else _NAN
    return out


def bigeminy_pairs(labels, kind: str) -> int:
    """The longest run of successive (``"N"``, ``kind``) pairs in a sequence of beat classes: every other
    beat ectopic, as bigeminy is."""
    best = run = i = 0
    while i + 1 < len(labels):
        if labels[i] == "N" and labels[i + 1] == kind:
            run, i = run + 1, i + 2
            best = max(best, run)
        else:
            run, i = 0, i + 1
    return best


def _num(v) -> float:
    return _NAN if v is None else float(v)


def paced_fraction(pulses: np.ndarray, r: np.ndarray, fs: float, before_ms: float = 250.0) -> float:
    """The share of beats (R at ``r``) with a pacing pulse in the ``before_ms`` before R (a ventricular
    pulse precedes its QRS by up to about 80 ms, an atrial one its P, by an AV delay of up to 250 ms), or up
    to 10 ms after it (a spike the detector took for the R peak itself)."""
    if not len(r):
        return 0.0
    w, after = before_ms / 1000 * fs, 0.01 * fs
    pulses, r = np.sort(np.asarray(pulses, float)), np.asarray(r, float)
    # a pulse in [R - w, R + after]: the sorted pulses' insertion points at the two ends differ
    return float(np.mean(np.searchsorted(pulses, r + after, "right") > np.searchsorted(pulses, r - w, "left")))


def facts_from(delineation, m: Measurements, *, sex: str | None = None, age: float | None = None,
               beat_labels: list[str] | None = None, poor_leads: tuple[str, ...] = (),
               formula: str = "Bazett", pulses: np.ndarray | None = None) -> Facts:
    """The facts of a record from its delineation and its measurements (``m``, with median beats);
    ``beat_labels``: the class of each beat of the delineation's global fiducials, when classified;
    ``pulses``: pacing pulses found in the recorded signal (samples at the delineation's rate)."""
    g = m.beat_fiducials
    pr = (g[:, 2] - g[:, 0]) * 1000.0 / delineation.fs if len(g) else np.zeros(0)
    normal = None if beat_labels is None else np.array([lab == "N" for lab in beat_labels])
    rf = rhythm_facts(g[:, 3] if len(g) else np.zeros(0), g[:, 0] if len(g) else np.zeros(0), pr, delineation.fs,
                      normal)
    counts = None if beat_labels is None else {c: int(sum(lab == c for lab in beat_labels)) for c in "NSVFQ"}
    leads = {}
    if m.median_beats is not None:
        for i, name in enumerate(delineation.lead_names):
            leads[name.upper()] = lead_measures(m.median_beats[i], delineation.fs, m.median_r0, m.median_fiducials,
                                                name)
    return Facts(hr=m.hr_bpm, rr_ms=m.rr_ms, p_ms=m.p_ms, pr=m.pr_ms, qrs=m.qrs_ms, qt=m.qt_ms,
                 qtc=m.qtc_ms.get(formula, _NAN), qtc_formula=formula, p_axis=_num(m.p_axis),
                 qrs_axis=_num(m.qrs_axis), t_axis=_num(m.t_axis), sex=sex, age=age, leads=leads,
                 beat_counts=counts,
                 bigeminy=None if beat_labels is None else {k: bigeminy_pairs(beat_labels, k) for k in "VS"},
                 poor_leads=tuple(poor_leads), n_leads=len(delineation.lead_names),
                 paced_fraction=(paced_fraction(pulses, g[:, 3], delineation.fs) if pulses is not None and len(g)
                                 else 0.0),
                 n_pulses=0 if pulses is None else int(len(pulses)),
                 **{k: v for k, v in rf.items()})
