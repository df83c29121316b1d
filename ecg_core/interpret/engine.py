"""Statements from criteria: :func:`interpret` evaluates every row of
:data:`~ecg_core.interpret.criteria.CRITERIA` on a record's facts and returns the statements that fire, each
with its evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .criteria import CATEGORIES, CRITERIA, Criterion, territories
from .facts import Facts

__all__ = ["Statement", "Interpretation", "interpret", "NORMAL_CODES", "POOR_QUALITY_LEADS"]

#: statements a normal ECG may carry beside "Normal ECG"
NORMAL_CODES = frozenset({"SR", "NAXIS", "HPOS", "VPOS"})
#: leads rated noisy, flat or saturated from which the interpretation is limited (a quarter of 12 leads)
POOR_QUALITY_LEADS = 3


@dataclass(frozen=True)
class Statement:
    """One interpretive statement: ``code`` (this project's, listed in docs/results.md with their LUDB
    equivalents), ``text`` as printed, ``category``, ``evidence`` (the criterion met, in words, with the
    values), ``values`` (the named measurements), ``leads`` (where a lead-wise criterion met), ``source``
    (``"criterion"`` or ``"model"``), ``confidence`` (a model's calibrated probability; None for criteria),
    ``reference`` (where the thresholds come from)."""

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


def interpret(f: Facts, criteria: tuple[Criterion, ...] = CRITERIA) -> Interpretation:
    """Every criterion evaluated on ``f`` in table order; a fired row's ``excludes`` suppress later and
    earlier rows alike. "Poor quality" leads the list when :data:`POOR_QUALITY_LEADS` or more leads are
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
