"""The interpretive criteria, one table: each row is a standard statement, the condition on named
measurements (:class:`~ecg_core.interpret.facts.Facts`) that makes it, the values shown as its evidence, and
the source of its thresholds. Adding a statement is adding a row; :func:`ecg_core.interpret.interpret`
evaluates them in order.

A condition returns True/False, or the leads that meet it (a territory statement fires when that tuple is
non-empty). ``excludes``: statements a fired row suppresses (a complete block suppresses the incomplete one);
``requires``: statements that must have fired first. Thresholds are the standards' and the literature's,
never fitted to a database: the AHA/ACCF/HRS recommendations for the standardization and interpretation of
the ECG (Mason et al. 2007 Part II, statement list; Surawicz et al. 2009 Part III, conduction; Rautaharju et
al. 2009 Part IV, ST-T and QT; Hancock et al. 2009 Part V, hypertrophy), the Fourth Universal Definition of
Myocardial Infarction (Thygesen et al. 2018), the Minnesota Code (Prineas, Crow & Zhang 2010), Sokolow &
Lyon 1949, Casale et al. 1987 (Cornell voltage), Dash et al. 2009 (RR irregularity in atrial fibrillation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .facts import Facts

__all__ = ["Criterion", "CRITERIA", "TERRITORIES", "CATEGORIES", "BIGEMINY_PAIRS", "SB_LIMIT_BPM", "ST_LIMIT_BPM",
           "sinus", "st_elevation_limit", "territories"]

#: the order statements print in
CATEGORIES = ("quality", "rhythm", "ectopy", "axis", "conduction", "hypertrophy", "voltage", "ischaemia",
              "repolarisation", "qt", "summary")

#: contiguous lead groups (Fourth Universal Definition of MI: "two contiguous leads")
TERRITORIES = {"septal": ("V1", "V2"), "anterior": ("V2", "V3", "V4"), "lateral": ("I", "aVL", "V5", "V6"),
               "inferior": ("II", "III", "aVF")}


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    category: str
    condition: Callable[[Facts], bool | tuple[str, ...]]
    values: Callable[[Facts], dict]
    evidence: str
    reference: str
    excludes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


def _ok(*v: float) -> bool:
    return all(x is not None and np.isfinite(x) for x in v)


def _lt(v, limit) -> bool:
    return _ok(v) and v < limit


def _ge(v, limit) -> bool:
    return _ok(v) and v >= limit


def sinus(f: Facts) -> bool:
    """P waves before nearly every QRS (80 %), upright in II and inverted in aVR (a sinus P's frontal axis),
    the rhythm not irregularly irregular."""
    return (_ge(f.p_fraction, 0.8) and _ge(f.lead("II").p_mv, 0.0) and _lt(f.lead("aVR").p_mv, 0.0)
            and not _ge(f.rr_irregularity, 0.1))


#: sinus bradycardia below this rate: the AHA/ACCF/HRS statement list's lower limit of normal (Mason et al.
#: 2007 Part II; GE 12SL and Philips DXL print it under 60)
SB_LIMIT_BPM = 50.0
#: sinus tachycardia above this rate (Mason et al. 2007 Part II)
ST_LIMIT_BPM = 100.0


def st_elevation_limit(lead: str, sex: str | None, age: float | None) -> float:
    """J-point elevation that counts (mV): 0.1 in every lead but V2-V3, where it is 0.2 for men of 40 and over,
    0.25 for men under 40 and 0.15 for women (Fourth Universal Definition of MI; unknown sex or age: the men's
    limit for their age, 0.2 when unknown)."""
    if lead.upper() not in ("V2", "V3"):
        return 0.1
    if (sex or "").upper().startswith("F"):
        return 0.15
    return 0.25 if age is not None and age < 40 else 0.2


def _contiguous(f: Facts, test: Callable[[str], bool], exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Leads meeting ``test`` in at least two leads of one territory (each lead counted once)."""
    hit: list[str] = []
    for leads in TERRITORIES.values():
        got = [lead for lead in leads if lead not in exclude and f.has(lead) and test(lead)]
        if len(got) >= 2:
            hit += [lead for lead in got if lead not in hit]
    return tuple(hit)


def territories(leads: tuple[str, ...]) -> str:
    """The territories two or more of ``leads`` belong to, in words."""
    return ", ".join(t for t, ls in TERRITORIES.items() if len(set(ls) & set(leads)) >= 2)


def _ste(f: Facts) -> tuple[str, ...]:
    return _contiguous(f, lambda n: _ge(f.lead(n).st_j_mv, st_elevation_limit(n, f.sex, f.age)))


def _std(f: Facts) -> tuple[str, ...]:
    # horizontal or downsloping: J and J+60 both depressed by 0.05 mV (Fourth Universal Definition)
    return _contiguous(f, lambda n: _ok(f.lead(n).st_j_mv, f.lead(n).st_60_mv)
                       and f.lead(n).st_j_mv <= -0.05 and f.lead(n).st_60_mv <= -0.05, exclude=("aVR",))


def _pathological_q(f: Facts) -> tuple[str, ...]:
    def q(n: str) -> bool:
        m = f.lead(n)
        if n in ("V2", "V3"):
            return m.qs or _ge(m.q_ms, 20)
        return m.qs or (_ge(m.q_ms, 30) and _ge(m.q_mv, 0.1))
    return _contiguous(f, q, exclude=("III", "aVR", "V1"))


def _t_inversion(f: Facts) -> tuple[str, ...]:
    # T inverted by 0.1 mV or more where R is the main deflection (Rautaharju et al. 2009)
    return _contiguous(f, lambda n: _ok(f.lead(n).t_mv) and f.lead(n).t_mv <= -0.1 and _dominant_r(f, n),
                       exclude=("aVR", "III", "V1"))


def _dominant_r(f: Facts, lead: str) -> bool:
    """R is the main deflection of ``lead``'s QRS."""
    m = f.lead(lead)
    return _ok(m.qrs_max_mv, m.qrs_min_mv) and m.qrs_max_mv > m.qrs_min_mv


def _dominant_s(f: Facts, lead: str) -> bool:
    m = f.lead(lead)
    return _ok(m.qrs_max_mv, m.qrs_min_mv) and m.qrs_min_mv > m.qrs_max_mv


def _minor_t(f: Facts) -> tuple[str, ...]:
    """Minnesota Code 5-3 / 5-4: where R is at least 0.5 mV, T flat or negative by less than 0.1 mV, or
    positive but under a twentieth of R (R at least 1 mV), in two contiguous leads."""
    def low(n: str) -> bool:
        m = f.lead(n)
        if not _ok(m.t_mv, m.r_mv) or m.r_mv < 0.5:
            return False
        return -0.1 < m.t_mv <= 0.0 or (m.r_mv >= 1.0 and 0.0 < m.t_mv < m.r_mv / 20)
    return _contiguous(f, low, exclude=("aVR", "III", "V1"))


def _rbbb_v1(f: Facts) -> bool:
    """rsR' or rSR' in V1 or V2, or a broad R in V1 (R peak time > 50 ms, R the main deflection)."""
    for n in ("V1", "V2"):
        m = f.lead(n)
        if _ge(m.r_prime_mv, 0.05):
            return True
        if n == "V1" and _ge(m.r_peak_ms, 50) and m.qrs_max_mv > m.qrs_min_mv:
            return True
    return False


def _wide_s_left(f: Facts) -> bool:
    """S wider than 40 ms (or wider than R) in I or V6."""
    return any(_ge(f.lead(n).s_ms, 40) for n in ("I", "V6"))


def _lbbb_pattern(f: Facts) -> bool:
    """QS or rS in V1 (S the main deflection), no Q in I, V5, V6, R peak time over 60 ms in V5 or V6."""
    v1 = f.lead("V1")
    return (_ok(v1.qrs_min_mv) and v1.qrs_min_mv > 2 * v1.qrs_max_mv
            and all(not _ge(f.lead(n).q_mv, 0.05) for n in ("I", "V5", "V6") if f.has(n))
            and any(_ge(f.lead(n).r_peak_ms, 60) for n in ("V5", "V6")))


def _sokolow(f: Facts) -> float:
    return f.lead("V1").s_mv + max(f.lead("V5").r_mv, f.lead("V6").r_mv)


def _cornell(f: Facts) -> float:
    return f.lead("aVL").r_mv + f.lead("V3").s_mv


def _cornell_limit(f: Facts) -> float:
    return 2.0 if (f.sex or "").upper().startswith("F") else 2.8


def _low_voltage(f: Facts) -> bool:
    limb = [f.lead(n).qrs_pp_mv for n in ("I", "II", "III", "aVR", "aVL", "aVF") if f.has(n)]
    return len(limb) == 6 and all(_lt(v, 0.5) for v in limb)


def _long_qtc(f: Facts) -> bool:
    return _ok(f.qtc) and f.qtc >= (460 if (f.sex or "").upper().startswith("F") else 450)


def _ectopy(f: Facts, kind: str) -> int:
    return int((f.beat_counts or {}).get(kind, 0))


#: successive (normal, ectopic) pairs that make bigeminy: three, a convention (the AHA statement list names
#: bigeminy, "every other beat", without a count), so that one coupled pair is not called a rhythm
BIGEMINY_PAIRS = 3


def _bigeminy(f: Facts, kind: str) -> int:
    return int((f.bigeminy or {}).get(kind, 0))


def _v(**kw) -> Callable[[Facts], dict]:
    return lambda f: {k: g(f) for k, g in kw.items()}


def _leads_values(fn: Callable[[Facts], tuple[str, ...]], attr: str) -> Callable[[Facts], dict]:
    return lambda f: {f"{attr} {n}": getattr(f.lead(n), attr) for n in fn(f)}


_AHA_II = "AHA/ACCF/HRS 2007 Part II (Mason et al.), statement list"
_AHA_III = "AHA/ACCF/HRS 2009 Part III (Surawicz et al.), intraventricular conduction disturbances"
_AHA_IV = "AHA/ACCF/HRS 2009 Part IV (Rautaharju et al.), ST segment, T and U waves, QT interval"
_AHA_V = "AHA/ACCF/HRS 2009 Part V (Hancock et al.), chamber hypertrophy"
_UDMI = "Fourth Universal Definition of Myocardial Infarction (Thygesen et al. 2018)"
_ELECTRICAL_POSITION = ("the heart's electrical position within the normal axis (horizontal 0 to +30°, vertical "
                        "+70 to +90°), the secondary wording of Russian and German ECG reports and of LUDB")

#: what a paced QRS makes unreadable (AHA 2007 Part II: a paced rhythm's QRS and ST-T are not interpreted)
_PACED_EXCLUDES = ("CLBBB", "CRBBB", "ILBBB", "IRBBB", "IVCD", "LAFB", "LPFB", "WPW", "LVH_SL", "LVH_CV", "RVH",
                   "STE", "STD", "QWAVE", "TINV", "NSTT", "LAD", "RAD", "NAXIS", "PVC", "VBIG")

CRITERIA: tuple[Criterion, ...] = (
    # rhythm
    Criterion("PACE", "Paced rhythm", "rhythm", lambda f: f.paced_fraction >= 0.5,
              _v(paced=lambda f: f.paced_fraction, pulses=lambda f: f.n_pulses),
              "pacing pulses before {paced:.0%} of QRS complexes ({pulses} pulses)",
              "IEC 60601-2-25 (pacing pulses of 0.1-2 ms, 2-700 mV); " + _AHA_II, excludes=_PACED_EXCLUDES),
    Criterion("AF", "Atrial fibrillation", "rhythm",
              lambda f: _ge(f.rr_irregularity, 0.1) and _lt(f.p_fraction, 0.5),
              _v(rr_irregularity=lambda f: f.rr_irregularity, p_fraction=lambda f: f.p_fraction),
              "RR irregular (RMSSD/mean RR {rr_irregularity:.2f} >= 0.10) with P waves before {p_fraction:.0%} of QRS",
              "Dash et al. 2009 (RMSSD/mean RR > 0.1); " + _AHA_II,
              excludes=("SR", "SB", "STACH", "SARRH")),
    Criterion("SB", "Sinus bradycardia", "rhythm", lambda f: sinus(f) and _lt(f.hr, SB_LIMIT_BPM),
              _v(hr=lambda f: f.hr, p_axis=lambda f: f.p_axis),
              "sinus P waves (axis {p_axis:.0f}°), heart rate {hr:.0f} bpm < 50", _AHA_II, excludes=("SR",)),
    Criterion("STACH", "Sinus tachycardia", "rhythm", lambda f: sinus(f) and _ok(f.hr) and f.hr > ST_LIMIT_BPM,
              _v(hr=lambda f: f.hr, p_axis=lambda f: f.p_axis),
              "sinus P waves (axis {p_axis:.0f}°), heart rate {hr:.0f} bpm > 100", _AHA_II, excludes=("SR",)),
    Criterion("SR", "Sinus rhythm", "rhythm", sinus,
              _v(hr=lambda f: f.hr, p_fraction=lambda f: f.p_fraction, p_axis=lambda f: f.p_axis),
              "P waves before {p_fraction:.0%} of QRS, upright in II and inverted in aVR (axis {p_axis:.0f}°), "
              "heart rate {hr:.0f} bpm",
              _AHA_II),
    Criterion("SARRH", "Sinus arrhythmia", "rhythm",
              lambda f: sinus(f) and _ge(f.rr_range_ms, 160),
              _v(rr_range_ms=lambda f: f.rr_range_ms),
              "sinus rhythm with RR varying by {rr_range_ms:.0f} ms (>= 160)",
              "P-P variation over 0.16 s (Chou's Electrocardiography in Clinical Practice)"),
    # ectopy (from the beat classes, when read)
    Criterion("PVC", "Premature ventricular complexes", "ectopy", lambda f: _ectopy(f, "V") >= 1,
              _v(n=lambda f: _ectopy(f, "V"), beats=lambda f: sum((f.beat_counts or {}).values())),
              "{n} of {beats} beats classed ventricular (V)", _AHA_II),
    Criterion("PAC", "Premature atrial complexes", "ectopy", lambda f: _ectopy(f, "S") >= 1,
              _v(n=lambda f: _ectopy(f, "S"), beats=lambda f: sum((f.beat_counts or {}).values())),
              "{n} of {beats} beats classed supraventricular (S)", _AHA_II),
    Criterion("VBIG", "Ventricular bigeminy", "ectopy", lambda f: _bigeminy(f, "V") >= BIGEMINY_PAIRS,
              _v(pairs=lambda f: _bigeminy(f, "V")),
              "every other beat ventricular: {pairs} successive normal-ventricular pairs (>= 3)", _AHA_II),
    Criterion("SVBIG", "Supraventricular bigeminy", "ectopy", lambda f: _bigeminy(f, "S") >= BIGEMINY_PAIRS,
              _v(pairs=lambda f: _bigeminy(f, "S")),
              "every other beat supraventricular: {pairs} successive normal-supraventricular pairs (>= 3)",
              _AHA_II),
    # axis
    Criterion("LAD", "Left axis deviation", "axis", lambda f: _ok(f.qrs_axis) and -90 <= f.qrs_axis < -30,
              _v(axis=lambda f: f.qrs_axis), "QRS axis {axis:.0f}° (-30° to -90°)", _AHA_II),
    Criterion("RAD", "Right axis deviation", "axis", lambda f: _ok(f.qrs_axis) and 90 < f.qrs_axis <= 180,
              _v(axis=lambda f: f.qrs_axis), "QRS axis {axis:.0f}° (+90° to +180°)", _AHA_II),
    Criterion("NAXIS", "Normal QRS axis", "axis", lambda f: _ok(f.qrs_axis) and -30 <= f.qrs_axis <= 90,
              _v(axis=lambda f: f.qrs_axis), "QRS axis {axis:.0f}° (-30° to +90°)", _AHA_II),
    # the electrical position inside the normal range: secondary wording, as Russian and German reports give it
    Criterion("HPOS", "Horizontal electrical position", "axis", lambda f: _ok(f.qrs_axis) and 0 <= f.qrs_axis < 30,
              _v(axis=lambda f: f.qrs_axis), "QRS axis {axis:.0f}° (0° to +30°)", _ELECTRICAL_POSITION),
    Criterion("VPOS", "Vertical electrical position", "axis", lambda f: _ok(f.qrs_axis) and 70 < f.qrs_axis <= 90,
              _v(axis=lambda f: f.qrs_axis), "QRS axis {axis:.0f}° (+70° to +90°)", _ELECTRICAL_POSITION),
    # conduction
    Criterion("1AVB", "First-degree AV block", "conduction",
              lambda f: _ge(f.pr, 200.5) and _ge(f.p_fraction, 0.8),
              _v(pr=lambda f: f.pr), "PR {pr:.0f} ms > 200", _AHA_II),
    Criterion("WPW", "Ventricular pre-excitation (WPW pattern)", "conduction",
              lambda f: _lt(f.pr, 120) and _ge(f.qrs, 120) and _ge(f.p_fraction, 0.8),
              _v(pr=lambda f: f.pr, qrs=lambda f: f.qrs), "PR {pr:.0f} ms < 120 with QRS {qrs:.0f} ms >= 120",
              _AHA_III, excludes=("IVCD",)),
    Criterion("CLBBB", "Complete left bundle branch block", "conduction",
              lambda f: _ge(f.qrs, 120) and _lbbb_pattern(f),
              _v(qrs=lambda f: f.qrs, r_peak_v6=lambda f: f.lead("V6").r_peak_ms),
              "QRS {qrs:.0f} ms >= 120, QS/rS in V1, no Q in I/V5/V6, R peak time V6 {r_peak_v6:.0f} ms",
              _AHA_III, excludes=("ILBBB", "IVCD", "LAFB", "LPFB", "LVH_SL", "LVH_CV")),
    Criterion("CRBBB", "Complete right bundle branch block", "conduction",
              lambda f: _ge(f.qrs, 120) and _rbbb_v1(f) and _wide_s_left(f),
              _v(qrs=lambda f: f.qrs, r_prime_v1=lambda f: f.lead("V1").r_prime_mv, s_i=lambda f: f.lead("I").s_ms),
              "QRS {qrs:.0f} ms >= 120, rsR' or broad R in V1-V2 (R' {r_prime_v1:.2f} mV), S in I {s_i:.0f} ms",
              _AHA_III, excludes=("IRBBB", "IVCD")),
    Criterion("ILBBB", "Incomplete left bundle branch block", "conduction",
              lambda f: _ok(f.qrs) and 110 <= f.qrs < 120 and _lbbb_pattern(f),
              _v(qrs=lambda f: f.qrs), "QRS {qrs:.0f} ms (110-119) with the LBBB pattern", _AHA_III,
              excludes=("IVCD",)),
    Criterion("IRBBB", "Incomplete right bundle branch block", "conduction",
              lambda f: _ok(f.qrs) and 110 <= f.qrs < 120 and _rbbb_v1(f),
              _v(qrs=lambda f: f.qrs), "QRS {qrs:.0f} ms (110-119) with rsR' or broad R in V1-V2", _AHA_III,
              excludes=("IVCD",)),
    Criterion("LAFB", "Left anterior fascicular block", "conduction",
              lambda f: (_ok(f.qrs_axis) and -90 <= f.qrs_axis <= -45 and _lt(f.qrs, 120)
                         and _ge(f.lead("aVL").q_mv, 0.02) and _dominant_r(f, "aVL") and _dominant_s(f, "II")),
              _v(axis=lambda f: f.qrs_axis, qrs=lambda f: f.qrs),
              "QRS axis {axis:.0f}° (-45° to -90°), qR in aVL, rS in II, QRS {qrs:.0f} ms < 120", _AHA_III),
    Criterion("LPFB", "Left posterior fascicular block", "conduction",
              lambda f: (_ok(f.qrs_axis) and 90 < f.qrs_axis <= 180 and _lt(f.qrs, 120)
                         and _dominant_s(f, "I") and _ge(f.lead("III").q_mv, 0.02) and _dominant_r(f, "III")),
              _v(axis=lambda f: f.qrs_axis, qrs=lambda f: f.qrs),
              "QRS axis {axis:.0f}° (+90° to +180°), rS in I, qR in III, QRS {qrs:.0f} ms < 120", _AHA_III),
    Criterion("IVCD", "Nonspecific intraventricular conduction delay", "conduction", lambda f: _ge(f.qrs, 110.5),
              _v(qrs=lambda f: f.qrs), "QRS {qrs:.0f} ms > 110 without the criteria of a bundle branch block",
              _AHA_III),
    # hypertrophy
    Criterion("LVH_SL", "Left ventricular hypertrophy by voltage (Sokolow-Lyon)", "hypertrophy",
              lambda f: _ge(_sokolow(f), 3.5), _v(sokolow=_sokolow),
              "S V1 + R V5/V6 = {sokolow:.2f} mV >= 3.5", "Sokolow & Lyon 1949; " + _AHA_V),
    Criterion("LVH_CV", "Left ventricular hypertrophy by voltage (Cornell)", "hypertrophy",
              lambda f: _ok(_cornell(f)) and _cornell(f) > _cornell_limit(f),
              _v(cornell=_cornell, limit=_cornell_limit), "R aVL + S V3 = {cornell:.2f} mV > {limit:.1f}",
              "Casale et al. 1987 (men 2.8, women 2.0 mV); " + _AHA_V),
    Criterion("RVH", "Right ventricular hypertrophy", "hypertrophy",
              lambda f: (_ok(f.qrs_axis) and f.qrs_axis > 90 and _lt(f.qrs, 120)
                         and (_ge(f.lead("V1").r_mv, 0.7) or _dominant_r(f, "V1"))),
              _v(axis=lambda f: f.qrs_axis, r_v1=lambda f: f.lead("V1").r_mv),
              "right axis ({axis:.0f}°) with R V1 {r_v1:.2f} mV >= 0.7 or R > S in V1", _AHA_V),
    Criterion("LAE", "Left atrial enlargement", "hypertrophy",
              lambda f: _ge(f.p_ms, 120) or (_ge(f.lead("V1").p_terminal_mv, 0.1)
                                             and _ge(f.lead("V1").p_terminal_ms, 40)),
              _v(p_ms=lambda f: f.p_ms, ptf=lambda f: f.lead("V1").p_terminal_mv * f.lead("V1").p_terminal_ms * 10),
              "P {p_ms:.0f} ms >= 120, or terminal negative P in V1 >= 0.1 mV x 40 ms ({ptf:.0f} mm·ms)", _AHA_V),
    Criterion("RAE", "Right atrial enlargement", "hypertrophy", lambda f: _ge(f.lead("II").p_mv, 0.25),
              _v(p_ii=lambda f: f.lead("II").p_mv), "P in II {p_ii:.2f} mV >= 0.25", _AHA_V),
    # voltage
    Criterion("LVOLT", "Low QRS voltage in the limb leads", "voltage", _low_voltage,
              _v(max_pp=lambda f: max(f.lead(n).qrs_pp_mv for n in ("I", "II", "III", "aVR", "aVL", "aVF"))),
              "QRS under 0.5 mV peak to peak in every limb lead (largest {max_pp:.2f} mV)", _AHA_II),
    # ischaemia
    Criterion("STE", "ST elevation", "ischaemia", _ste, _leads_values(_ste, "st_j_mv"),
              "J-point elevation in {leads} ({territory}) at or over the limits of the Fourth Universal "
              "Definition (0.1 mV; V2-V3 by age and sex)", _UDMI),
    Criterion("STD", "ST depression", "ischaemia", _std, _leads_values(_std, "st_j_mv"),
              "horizontal or downsloping ST depression >= 0.05 mV in {leads} ({territory})", _UDMI),
    Criterion("QWAVE", "Pathological Q waves", "ischaemia", _pathological_q, _leads_values(_pathological_q, "q_ms"),
              "Q waves >= 30 ms and 0.1 mV (V2-V3: >= 20 ms) or QS in {leads} ({territory})", _UDMI),
    # repolarisation
    Criterion("TINV", "T-wave inversion", "repolarisation", _t_inversion, _leads_values(_t_inversion, "t_mv"),
              "T inverted by 0.1 mV or more in {leads} ({territory}) where R is the main deflection", _AHA_IV,
              excludes=("NSTT",)),
    Criterion("NSTT", "Nonspecific T-wave abnormality", "repolarisation", _minor_t, _leads_values(_minor_t, "t_mv"),
              "T flat, shallow negative (under 0.1 mV) or under a twentieth of R in {leads} ({territory})",
              "Minnesota Code 5-3, 5-4 (Prineas, Crow & Zhang 2010); " + _AHA_IV),
    # QT
    Criterion("LQT", "Prolonged QTc", "qt", _long_qtc,
              _v(qtc=lambda f: f.qtc, formula=lambda f: f.qtc_formula,
                 limit=lambda f: 460 if (f.sex or "").upper().startswith("F") else 450),
              "QTc {qtc:.0f} ms ({formula}) >= {limit}", _AHA_IV),
    Criterion("SQT", "Short QTc", "qt", lambda f: _ok(f.qtc) and f.qtc <= 390,
              _v(qtc=lambda f: f.qtc, formula=lambda f: f.qtc_formula), "QTc {qtc:.0f} ms ({formula}) <= 390",
              _AHA_IV),
)
