"""Global intervals, QTc, frontal axes and median beats from a delineation.

Each beat's global fiducials combine the leads the way measurement standards do (IEC 60601-2-25: the
global QRS onset is the earliest onset in any lead, the offset the latest), made robust to one lead's
error by taking the 15th / 85th percentile across leads rather than the extreme. Intervals are the
median over beats. The frontal axes come from the net area of each wave, between its global ends, on
the median beats of leads I and aVF (aVF derived from II and I when absent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..waves import LeadWaves
from .rate import heart_rate

__all__ = ["Measurements", "measure", "qtc", "QTC_FORMULAS", "global_fiducials", "median_beats", "axis_deg"]

#: QTc formulas: QT and RR in seconds (HR in beats per minute) -> QTc in seconds
QTC_FORMULAS = {
    "Bazett": lambda qt, rr: qt / np.sqrt(rr),
    "Fridericia": lambda qt, rr: qt / np.cbrt(rr),
    "Framingham": lambda qt, rr: qt + 0.154 * (1.0 - rr),
    "Hodges": lambda qt, rr: qt + 0.00175 * (60.0 / rr - 60.0),
}
_GROUP_MS = 80.0
_P_BEFORE_MS = 400.0
_T_AFTER_MS = 700.0


def qtc(qt_ms: float, rr_ms: float, formula: str = "Bazett") -> float:
    """Heart-rate corrected QT (ms) by ``formula`` (:data:`QTC_FORMULAS`).

    >>> round(qtc(400.0, 1000.0, "Bazett"), 1), round(qtc(360.0, 640.0, "Fridericia"), 1)
    (400.0, 417.7)
    """
    if formula not in QTC_FORMULAS:
        raise ValueError(f"unknown QTc formula {formula!r}; valid: {', '.join(QTC_FORMULAS)}")
    return float(1000.0 * QTC_FORMULAS[formula](qt_ms / 1000.0, rr_ms / 1000.0))


def axis_deg(lead_i: float, lead_avf: float) -> float:
    """Frontal axis (degrees, -180..180) from the net deflection in lead I and aVF (Einthoven: I sees the
    heart vector's 0 deg component, aVF its 90 deg component scaled by sqrt(3)/2).

    >>> axis_deg(1.0, 0.0), round(axis_deg(0.0, 1.0)), round(axis_deg(-1.0, 0.0))
    (0.0, 90, 180)
    """
    return float(np.degrees(np.arctan2(2.0 / np.sqrt(3.0) * lead_avf, lead_i)))


def _pct(v: list[int], q: float) -> float:
    return float(np.percentile(v, q)) if v else float("nan")


def global_fiducials(waves: list[LeadWaves] | tuple[LeadWaves, ...], fs: float,
                     span: tuple[int, int] | None = None) -> np.ndarray:
    """Per-beat global fiducials ``(n_beats, 7)``: p_on, p_off, qrs_on, r, qrs_off, t_peak, t_off in
    samples (NaN where absent). A beat is a QRS found in at least half of the leads that found any QRS
    (QRS centres within 80 ms grouped); its P is taken when at least a third of the leads show a P wave
    in the 400 ms before it, and likewise for T in the 700 ms after. ``span`` keeps only beats inside it."""
    centres, ons, offs, peaks, lead_of = [], [], [], [], []
    for li, w in enumerate(waves):
        for on, pk, off in w["QRS"]:
            lo, hi = (on if on >= 0 else pk), (off if off >= 0 else pk)
            centres.append(0.5 * (lo + hi))
            ons.append(on)
            offs.append(off)
            peaks.append(pk)
            lead_of.append(li)
    n_leads = sum(1 for w in waves if len(w["QRS"]))
    if not centres:
        return np.zeros((0, 7))
    order = np.argsort(centres)
    c = np.asarray(centres)[order]
    gap = _GROUP_MS / 1000 * fs
    groups, cur = [], [order[0]]
    for k in range(1, len(order)):
        if c[k] - c[k - 1] > gap:
            groups.append(cur)
            cur = []
        cur.append(order[k])
    groups.append(cur)
    rows = []
    for g in groups:
        leads = {lead_of[i] for i in g}
        if len(leads) < max(1, n_leads / 2):
            continue
        on = [ons[i] for i in g if ons[i] >= 0]
        off = [offs[i] for i in g if offs[i] >= 0]
        q_on, q_off = _pct(on, 15), _pct(off, 85)
        r = float(np.median([peaks[i] for i in g]))
        if span is not None and not (span[0] <= r <= span[1]):
            continue
        rows.append([np.nan, np.nan, q_on, r, q_off, np.nan, np.nan])
    before, after = _P_BEFORE_MS / 1000 * fs, _T_AFTER_MS / 1000 * fs
    for k, row in enumerate(rows):
        q_on = row[2] if np.isfinite(row[2]) else row[3]
        q_off = row[4] if np.isfinite(row[4]) else row[3]
        prev_off = rows[k - 1][4] if k > 0 and np.isfinite(rows[k - 1][4]) else -np.inf
        next_on = rows[k + 1][2] if k + 1 < len(rows) and np.isfinite(rows[k + 1][2]) else np.inf
        p_on, p_off, t_pk, t_off, n_p, n_t = [], [], [], [], 0, 0
        for w in waves:
            p = w["P"]
            p = p[(p[:, 1] < q_on) & (p[:, 1] > max(q_on - before, prev_off))]
            if len(p):
                n_p += 1
                if p[-1, 0] >= 0:
                    p_on.append(p[-1, 0])
                if p[-1, 2] >= 0:
                    p_off.append(p[-1, 2])
            t = w["T"]
            t = t[(t[:, 1] > q_off) & (t[:, 1] < min(q_off + after, next_on))]
            if len(t):
                n_t += 1
                t_pk.append(t[0, 1])
                if t[0, 2] >= 0:
                    t_off.append(t[0, 2])
        if n_p >= max(1, n_leads / 3):
            row[0], row[1] = _pct(p_on, 15), _pct(p_off, 85)
        if n_t >= max(1, n_leads / 3):
            row[5], row[6] = float(np.median(t_pk)), _pct(t_off, 85)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 7)


def median_beats(signal: np.ndarray, fs: float, r: np.ndarray, before_ms: float = 300.0,
                 after_ms: float = 500.0) -> tuple[np.ndarray, int]:
    """Median beat of every lead ``(n_leads, n)`` aligned on the beats' R (``r``, samples), and the index
    of R in it. Beats whose window leaves the record are skipped."""
    b, a = int(round(before_ms / 1000 * fs)), int(round(after_ms / 1000 * fs))
    r = np.round(np.asarray(r)).astype(np.int64)
    r = r[(r - b >= 0) & (r + a < signal.shape[-1])]
    if len(r) == 0:
        return np.zeros((signal.shape[0], b + a)), b
    win = np.stack([signal[:, k - b:k + a] for k in r])
    return np.median(win, axis=0), b


@dataclass
class Measurements:
    """Global measurements (ms, bpm, degrees; NaN/None when not measurable) and their flags."""

    hr_bpm: float
    rr_ms: float
    p_ms: float
    pr_ms: float
    qrs_ms: float
    qt_ms: float
    qtc_ms: dict[str, float]
    p_axis: float | None
    qrs_axis: float | None
    t_axis: float | None
    n_beats: int
    flags: list[str] = field(default_factory=list)
    #: median beat of every lead ``(n_leads, n)``, the index of R in it, and the global fiducials as
    #: samples from R (``p_on, p_off, qrs_on, qrs_off, t_peak, t_off``; NaN when absent)
    median_beats: np.ndarray | None = None
    median_r0: int = 0
    median_fiducials: dict[str, float] = field(default_factory=dict)
    #: the per-beat global fiducials the measurements came from (:func:`global_fiducials`, samples)
    beat_fiducials: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))

    def table(self, formula: str = "Bazett") -> list[dict]:
        """Rows for a display table: measurement, value, unit, normal range."""
        def f(v):
            return None if v is None or not np.isfinite(v) else round(float(v))
        return [
            {"measurement": "Heart rate", "value": f(self.hr_bpm), "unit": "bpm", "normal": "60-100"},
            {"measurement": "P duration", "value": f(self.p_ms), "unit": "ms", "normal": "< 120"},
            {"measurement": "PR interval", "value": f(self.pr_ms), "unit": "ms", "normal": "120-200"},
            {"measurement": "QRS duration", "value": f(self.qrs_ms), "unit": "ms", "normal": "< 120"},
            {"measurement": "QT interval", "value": f(self.qt_ms), "unit": "ms", "normal": "-"},
            {"measurement": f"QTc ({formula})", "value": f(self.qtc_ms.get(formula, np.nan)), "unit": "ms",
             "normal": "M 390-450, F 390-460"},
            {"measurement": "P axis", "value": f(self.p_axis), "unit": "deg", "normal": "0 to 75"},
            {"measurement": "QRS axis", "value": f(self.qrs_axis), "unit": "deg", "normal": "-30 to 90"},
            {"measurement": "T axis", "value": f(self.t_axis), "unit": "deg", "normal": "-"},
        ]


def _net_area(beat: np.ndarray, lo: float, hi: float, base: float) -> float:
    lo, hi = int(round(lo)), int(round(hi))
    if not (0 <= lo < hi < len(beat)):
        return float("nan")
    return float(np.sum(beat[lo:hi + 1] - base))


def measure(signal: np.ndarray, fs: float, lead_names: tuple[str, ...], waves, sex: str | None = None,
            span: tuple[int, int] | None = None, formula: str = "Bazett") -> Measurements:
    """Global measurements of a record from its per-lead waves (a :class:`Delineation`'s ``waves`` or
    manual marks). ``sex`` (``"M"``/``"F"``) sets the long-QTc limit (450 / 460 ms; 450 when unknown);
    ``formula`` is the QTc formula the flags use."""
    g = global_fiducials(list(waves), fs, span)
    ms = 1000.0 / fs
    nan = float("nan")

    def med(col_a, col_b):
        if not len(g):
            return nan
        d = (g[:, col_b] - g[:, col_a]) * ms
        d = d[np.isfinite(d)]
        return float(np.median(d)) if len(d) else nan

    rr = np.diff(g[:, 3]) * ms if len(g) > 1 else np.zeros(0)
    rr_ms = float(np.median(rr)) if len(rr) else nan  # QTc: the RR of the median beat QT is measured on
    hr = heart_rate(g[:, 3].astype(np.int64), fs).mean_bpm if len(g) > 1 else nan  # the one definition
    p_ms, pr, qrs, qt = med(0, 1), med(0, 2), med(2, 4), med(2, 6)
    qtcs = {name: qtc(qt, rr_ms, name) if np.isfinite(qt) and np.isfinite(rr_ms) else nan for name in QTC_FORMULAS}
    # axes from the net area of each wave on the median beats of I and aVF
    axes: dict[str, float | None] = {"P": None, "QRS": None, "T": None}
    names = [n.upper() for n in lead_names]
    mb, r0, rel_d = None, 0, {}
    if len(g):
        mb, r0 = median_beats(signal, fs, g[:, 3])
        rel = np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan
                        for c in (g - g[:, 3:4]).T])  # fiducials as samples from R
        rel_d = {k: float(rel[i]) for i, k in enumerate(("p_on", "p_off", "qrs_on", "r", "qrs_off", "t_peak",
                                                          "t_off")) if k != "r"}
        rel = rel + r0
    if mb is not None and "I" in names and ("AVF" in names or "II" in names):
        lead_i = mb[names.index("I")]
        avf = mb[names.index("AVF")] if "AVF" in names else mb[names.index("II")] - 0.5 * lead_i
        on = int(round(rel[2])) if np.isfinite(rel[2]) and 0 <= rel[2] < len(lead_i) else None
        base_i, base_f = (lead_i[on], avf[on]) if on is not None else (0.0, 0.0)
        for wave, (a, b) in {"P": (0, 1), "QRS": (2, 4), "T": (4, 6)}.items():
            if np.isfinite(rel[a]) and np.isfinite(rel[b]):
                ai, af = _net_area(lead_i, rel[a], rel[b], base_i), _net_area(avf, rel[a], rel[b], base_f)
                if np.isfinite(ai) and np.isfinite(af) and (abs(ai) + abs(af)) > 0:
                    axes[wave] = axis_deg(ai, af)
    m = Measurements(hr_bpm=hr, rr_ms=rr_ms, p_ms=p_ms, pr_ms=pr, qrs_ms=qrs, qt_ms=qt, qtc_ms=qtcs,
                     p_axis=axes["P"], qrs_axis=axes["QRS"], t_axis=axes["T"], n_beats=len(g),
                     median_beats=mb, median_r0=r0, median_fiducials=rel_d, beat_fiducials=g)
    m.flags = _flags(m, sex, formula)
    return m


def _flags(m: Measurements, sex: str | None, formula: str = "Bazett") -> list[str]:
    out = []
    if np.isfinite(m.hr_bpm):
        if m.hr_bpm < 60:
            out.append(f"bradycardia ({m.hr_bpm:.0f} bpm < 60)")
        elif m.hr_bpm > 100:
            out.append(f"tachycardia ({m.hr_bpm:.0f} bpm > 100)")
    if np.isfinite(m.pr_ms):
        if m.pr_ms > 200:
            out.append(f"PR prolonged ({m.pr_ms:.0f} ms > 200): first-degree AV block?")
        elif m.pr_ms < 120:
            out.append(f"PR short ({m.pr_ms:.0f} ms < 120): pre-excitation?")
    if np.isfinite(m.qrs_ms) and m.qrs_ms >= 120:
        out.append(f"QRS wide ({m.qrs_ms:.0f} ms >= 120): bundle-branch block or ventricular conduction delay?")
    qtc_v = m.qtc_ms.get(formula, float("nan"))
    if np.isfinite(qtc_v):
        long_limit = {"M": 450.0, "F": 460.0}.get((sex or "").upper()[:1], 450.0)
        if qtc_v > long_limit:
            out.append(f"QTc long ({qtc_v:.0f} ms > {long_limit:.0f}, {formula})")
        elif qtc_v < 390:
            out.append(f"QTc short ({qtc_v:.0f} ms < 390, {formula})")
    if m.qrs_axis is not None:
        a = m.qrs_axis
        if a < -90:
            out.append(f"extreme axis deviation (QRS axis {a:.0f} deg)")
        elif a < -30:
            out.append(f"left axis deviation (QRS axis {a:.0f} deg < -30)")
        elif a > 90:
            out.append(f"right axis deviation (QRS axis {a:.0f} deg > 90)")
    return out
