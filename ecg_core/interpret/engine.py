"""Statements from criteria and from the learned 12-lead model: :func:`interpret` evaluates every row of
:data:`~ecg_core.interpret.criteria.CRITERIA` on a record's facts, fuses the learned statements' calibrated
probabilities (:data:`~ecg_core.data.ludb.LEARNED_STATEMENTS`) with them, and returns the statements that
fire, each with its evidence and its source."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..data.ludb import LEARNED_STATEMENTS
from .criteria import CATEGORIES, CRITERIA, Criterion, territories
from .facts import Facts

__all__ = ["Statement", "Interpretation", "interpret", "Learned", "NORMAL_CODES", "POOR_QUALITY_LEADS",
           "LEARNED_CRITERIA", "LEARNED_EXCLUDED_WITH", "LEARNED_THRESHOLD"]

#: statements a normal ECG may carry beside "Normal ECG"
NORMAL_CODES = frozenset({"SR", "NAXIS", "HPOS", "VPOS"})
#: leads rated noisy, flat or saturated from which the interpretation is limited (a quarter of 12 leads)
POOR_QUALITY_LEADS = 3
#: a learned statement fires at this calibrated probability (the Bayes decision for a calibrated model; no
#: threshold was tuned on LUDB)
LEARNED_THRESHOLD = 0.5
#: the criteria that make the same statement as a learned one (the model corroborates them)
LEARNED_CRITERIA = {"LVH": ("LVH_SL", "LVH_CV"), "LAE": ("LAE",), "RAE": ("RAE",), "NSTT": ("NSTT",)}
#: the criteria whose exclusion (by pacing or LBBB, as the criteria table says) excludes a learned statement
LEARNED_EXCLUDED_WITH = {**LEARNED_CRITERIA, "ISCH_ANT": ("STE", "QWAVE"), "ISCH_LAT": ("STE", "QWAVE"),
                         "ISCH_INF": ("STE", "QWAVE"), "ER": ("STE",)}


@dataclass(frozen=True)
class Learned:
    """A learned statement's read of one record: calibrated ``probability`` (mean over fold models and
    MC-dropout samples), its ``spread`` (SD) and whether it is ``uncertain`` (as
    :func:`ecg_core.predict.diagnosis.diagnose` flags it)."""

    probability: float
    spread: float
    uncertain: bool = False


@dataclass(frozen=True)
class Statement:
    """One interpretive statement: ``code`` (this project's, listed in docs/results.md with their LUDB
    equivalents), ``text`` as printed, ``category``, ``evidence`` (the criterion met, in words, with the
    values), ``values`` (the named measurements), ``leads`` (where a lead-wise criterion met), ``source``
    (``"criterion"`` or ``"model"``), ``confidence`` (a model's calibrated probability; None for criteria),
    ``reference`` (where the thresholds come from). A statement both fire says ``"criterion+model"`` and
    carries the model's probability; a learned statement the model alone makes reads "Possible ..." when the
    model is uncertain."""

    code: str
    text: str
    category: str
    evidence: str
    values: dict
    leads: tuple[str, ...] = ()
    source: str = "criterion"
    confidence: float | None = None
    reference: str = ""


@dataclass(frozen=True)
class Interpretation:
    """The statements of one record, in print order, and the facts they were read from."""

    statements: tuple[Statement, ...]
    facts: Facts

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.statements)

    def lines(self) -> list[str]:
        """The statements as a printout lists them."""
        return [s.text + (f" ({', '.join(s.leads)})" if s.leads else "") for s in self.statements]


def _statement(c: Criterion, f: Facts, got) -> Statement:
    leads = tuple(got) if isinstance(got, tuple) else ()
    values = {k: (float(v) if isinstance(v, (float, np.floating)) else int(v) if isinstance(v, np.integer) else v)
              for k, v in c.values(f).items()}
    text = c.evidence.format(**values, leads=", ".join(leads), territory=territories(leads))  # a NaN prints "nan"
    return Statement(c.code, c.text, c.category, text, values, leads, "criterion", None, c.reference)


def _fuse(out: list[Statement], learned: dict[str, Learned], excluded: set[str]) -> list[Statement]:
    """The learned statements added to the criteria's: a criterion statement the model also makes becomes
    ``"criterion+model"`` with the model's probability; one only the model makes is added as ``"model"``;
    every criterion statement that has a learned counterpart carries the model's probability (its
    ``confidence``, and in its values). A learned statement whose criteria a fired row excludes (pacing,
    LBBB: :data:`LEARNED_EXCLUDED_WITH`) is not made."""
    by_code = {s.code: i for i, s in enumerate(out)}
    for code, lr in learned.items():
        if code not in LEARNED_STATEMENTS:
            continue
        text, category = LEARNED_STATEMENTS[code]
        fires = lr.probability >= LEARNED_THRESHOLD
        said = f"12-lead model: probability {lr.probability:.2f} (spread {lr.spread:.2f})"
        hits = [by_code[c] for c in LEARNED_CRITERIA.get(code, ()) if c in by_code]
        for i in hits:  # the same statement from both sources
            s = out[i]
            out[i] = replace(s, source="criterion+model" if fires else "criterion",
                             confidence=round(lr.probability, 3), evidence=f"{s.evidence}; {said}",
                             values={**s.values, "model_probability": round(lr.probability, 3)})
        if fires and not hits and not set(LEARNED_EXCLUDED_WITH.get(code, ())) & excluded:
            printed = ("Possible " + text[0].lower() + text[1:]) if lr.uncertain else text
            out.append(Statement(code, printed, category, f"{said}, above {LEARNED_THRESHOLD:.1f}",
                                 {"probability": round(lr.probability, 3), "spread": round(lr.spread, 3)}, (),
                                 "model", round(lr.probability, 3),
                                 "learned from LUDB's cardiologists' conclusions (ecg_core.train.multimodal)"))
    return out


def interpret(f: Facts, criteria: tuple[Criterion, ...] = CRITERIA,
              learned: dict[str, Learned] | None = None) -> Interpretation:
    """Every criterion evaluated on ``f`` in table order; a fired row's ``excludes`` suppress later and
    earlier rows alike. ``learned``: the learned statements' probabilities by code, fused with the criteria
    (:func:`_fuse`). "Poor quality" leads the list when :data:`POOR_QUALITY_LEADS` or more leads are
    noisy, flat or saturated; "Normal ECG" closes it when nothing but sinus rhythm and a normal axis fired and
    every interval is in range (PR 120-200, QRS < 110, QTc under the long limit, heart rate 60-100)."""
    fired: dict[str, Statement] = {}
    excluded: set[str] = set()
    for c in criteria:
        if c.requires and not all(r in fired for r in c.requires):
            continue
        got = c.condition(f)
        if got:
            fired[c.code] = _statement(c, f, got)
            excluded |= set(c.excludes)
    out = [s for code, s in fired.items() if code not in excluded]
    if learned:
        out = _fuse(out, learned, excluded)
    if len(f.poor_leads) >= POOR_QUALITY_LEADS:
        out.insert(0, Statement("POORQ", "Poor quality, interpretation limited", "quality",
                                f"{len(f.poor_leads)} leads noisy, flat or saturated: {', '.join(f.poor_leads)}",
                                {"poor_leads": list(f.poor_leads)}, tuple(f.poor_leads)))
    codes = {s.code for s in out}
    in_range = (np.isfinite(f.pr) and 120 <= f.pr <= 200 and np.isfinite(f.qrs) and f.qrs < 110
                and np.isfinite(f.hr) and 60 <= f.hr <= 100)
    if codes and codes <= NORMAL_CODES and "SR" in codes and in_range:
        out.append(Statement("NORM", "Normal ECG", "summary",
                             "sinus rhythm, normal axis, and every interval in range "
                             f"(HR {f.hr:.0f}, PR {f.pr:.0f}, QRS {f.qrs:.0f} ms)", {}, ()))
    order = {c: i for i, c in enumerate(CATEGORIES)}
    out.sort(key=lambda s: order.get(s.category, len(order)))  # stable: table order within a category
    return Interpretation(tuple(out), f)
