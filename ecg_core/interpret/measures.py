"""Per-lead measurements of a 12-lead median beat, the quantities interpretive criteria are written in.

The median beat of every lead (``ecg_core.signal.intervals.median_beats``) with the global QRS onset and
offset: the baseline is the PR segment (the 5-20 ms before QRS onset, as the CSE and IEC 60601-2-25 measure
amplitudes from the QRS onset level), Q, R, S and R' are the waves of the QRS between the global onset and
offset (a Q is an initial negative deflection, an R' a second positive one after an S), the ST level at J
(the global QRS offset) and 60 ms after it, the T amplitude at the global T peak, the P amplitude (from its
onset level) and its terminal negative part. Written here because no installed library measures these on median beats:
NeuroKit2 delineates beats but gives no wave amplitudes, Q widths or ST levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import find_peaks

__all__ = ["LeadMeasures", "lead_measures", "MEASURE_NAMES"]

#: the per-lead quantities (mV or ms) of :class:`LeadMeasures`
MEASURE_NAMES = ("p_mv", "p_terminal_mv", "p_terminal_ms", "q_mv", "q_ms", "r_mv", "s_mv", "r_prime_mv",
                 "r_peak_ms", "s_ms", "qrs_pp_mv", "qrs_max_mv", "qrs_min_mv", "st_j_mv", "st_60_mv", "t_mv", "qs")


@dataclass(frozen=True)
class LeadMeasures:
    """One lead's median beat, measured: ``p_mv`` (signed extreme of P), ``p_terminal_mv`` / ``p_terminal_ms``
    (depth and width of P's terminal negative part), ``q_mv`` / ``q_ms`` (depth and width of an initial
    negative deflection; 0 when none), ``r_mv`` (the tallest positive peak), ``s_mv`` (depth of the deepest
    point after the first R), ``r_prime_mv`` (a second positive peak after an S; 0 when none), ``r_peak_ms``
    (R peak time: QRS onset to the tallest peak), ``s_ms`` (width of the negative part after the first R),
    ``qrs_pp_mv`` (peak to peak), ``qrs_max_mv`` / ``qrs_min_mv`` (the largest positive and negative
    excursions: which deflection dominates), ``st_j_mv`` and
    ``st_60_mv`` (ST level at J and J + 60 ms), ``t_mv`` (T at the global T peak, signed), ``qs`` (no R at
    all: a QS complex). Amplitudes from the PR-segment baseline; NaN where the beat lacks the wave."""

    lead: str
    p_mv: float = float("nan")
    p_terminal_mv: float = 0.0
    p_terminal_ms: float = 0.0
    q_mv: float = 0.0
    q_ms: float = 0.0
    r_mv: float = 0.0
    s_mv: float = 0.0
    r_prime_mv: float = 0.0
    r_peak_ms: float = float("nan")
    s_ms: float = 0.0
    qrs_pp_mv: float = float("nan")
    qrs_max_mv: float = float("nan")
    qrs_min_mv: float = float("nan")
    st_j_mv: float = float("nan")
    st_60_mv: float = float("nan")
    t_mv: float = float("nan")
    qs: bool = False
    extra: dict = field(default_factory=dict)


#: deflections smaller than this are not waves (the CSE minimum wave of 20 µV is for noise-free median
#: beats; 50 µV keeps filter ripple out), mV
_MIN_WAVE_MV = 0.05


def _idx(v: float, r0: int) -> int | None:
    return None if not np.isfinite(v) else int(round(r0 + v))


def _width_ms(neg: np.ndarray, fs: float) -> float:
    return float(neg.sum() * 1000.0 / fs)


def lead_measures(beat: np.ndarray, fs: float, r0: int, fid: dict[str, float], lead: str) -> LeadMeasures:
    """Measure one lead's median beat ``beat`` (mV, R of the median beat at sample ``r0``) with the global
    fiducials ``fid`` (samples from R: ``p_on, p_off, qrs_on, qrs_off, t_peak, t_off``; NaN when absent)."""
    n = len(beat)
    on, off = _idx(fid.get("qrs_on", np.nan), r0), _idx(fid.get("qrs_off", np.nan), r0)
    if on is None or off is None or not (0 < on < off < n):
        return LeadMeasures(lead)
    ms = 1000.0 / fs
    lo = max(on - int(round(20 / ms)), 0)
    hi = max(on - int(round(5 / ms)), lo + 1)
    base = float(np.median(beat[lo:hi]))
    x = beat - base
    qrs = x[on:off + 1]
    pp = float(qrs.max() - qrs.min())
    pos = np.clip(qrs, 0, None)
    peaks, _ = find_peaks(np.r_[0.0, pos, 0.0], height=_MIN_WAVE_MV, prominence=_MIN_WAVE_MV)
    peaks = peaks - 1
    if not len(peaks):  # no R: a QS complex
        q_mv = float(max(0.0, -qrs.min()))
        out = dict(q_mv=q_mv, q_ms=_width_ms(qrs < 0, fs) if q_mv >= _MIN_WAVE_MV else 0.0, r_mv=0.0, s_mv=0.0,
                   qs=q_mv >= _MIN_WAVE_MV)
        ir = int(np.argmin(qrs))
    else:
        ir = int(peaks[0])
        before = qrs[:ir]
        q_mv = float(max(0.0, -before.min())) if len(before) else 0.0
        q_ms = 0.0
        if q_mv >= _MIN_WAVE_MV:
            q_ms = _width_ms(before < 0, fs)  # the initial negative run (from QRS onset to the upstroke)
        else:
            q_mv = 0.0
        after = qrs[ir:]
        s_mv = float(max(0.0, -after.min()))
        r_prime = 0.0
        if len(peaks) > 1:
            between = qrs[ir:peaks[1] + 1]
            if between.min() < qrs[peaks[1]] - _MIN_WAVE_MV:  # a dip between the two R waves: R'
                r_prime = float(qrs[peaks[1]])
        top = int(np.argmax(qrs))  # the tallest positive peak: R, or R' when it is the taller
        out = dict(q_mv=q_mv, q_ms=q_ms, r_mv=float(qrs[top]), s_mv=s_mv if s_mv >= _MIN_WAVE_MV else 0.0,
                   r_prime_mv=r_prime, r_peak_ms=top * ms,
                   s_ms=_width_ms(after < 0, fs) if s_mv >= _MIN_WAVE_MV else 0.0)
    j60 = off + int(round(60 / ms))
    st_j, st_60 = float(x[off]), (float(x[j60]) if j60 < n else float("nan"))
    tp = _idx(fid.get("t_peak", np.nan), r0)
    t_mv = float(x[tp]) if tp is not None and off < tp < n else float("nan")
    p_mv, p_term_mv, p_term_ms = float("nan"), 0.0, 0.0
    p_on, p_off = _idx(fid.get("p_on", np.nan), r0), _idx(fid.get("p_off", np.nan), r0)
    if p_on is not None and p_off is not None and 0 <= p_on < p_off < on:
        p = x[p_on:p_off + 1] - x[p_on]  # from the level at P onset, as the CSE measures P
        p_mv = float(p[np.argmax(np.abs(p))])
        tail = p[len(p) // 2:]  # the terminal half: left-atrial activation
        if tail.min() <= -_MIN_WAVE_MV / 2:
            p_term_mv, p_term_ms = float(-tail.min()), _width_ms(tail < 0, fs)
    return LeadMeasures(lead, p_mv=p_mv, p_terminal_mv=p_term_mv, p_terminal_ms=p_term_ms, qrs_pp_mv=pp,
                        qrs_max_mv=float(max(qrs.max(), 0.0)), qrs_min_mv=float(max(-qrs.min(), 0.0)),
                        st_j_mv=st_j, st_60_mv=st_60, t_mv=t_mv, **out)
