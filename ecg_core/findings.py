"""Learned findings checked against what was measured: where a measurement settles a finding (the QRS
axis settles "axis deviation"), the measurement decides the statement and the model's disagreement is
said, not hidden.

Limits from the AHA/ACCF/HRS recommendations for the standardization and interpretation of the ECG
(Surawicz et al. 2009, Part III): adult frontal QRS axis normal from -30 to +90 degrees; QRS duration of
120 ms or more is a complete bundle-branch block or intraventricular conduction delay; PR over 200 ms is
first-degree AV block (Part II/III).

The 12-lead model learned LUDB's axis labels, which follow another convention: on LUDB's 200 records our
measured QRS axis has a median of -9 degrees (IQR -34 to +26) where the cardiologists wrote "left axis
deviation" and +50 (IQR 43 to 60) where they wrote "normal" (docs/results.md). Half of LUDB's left
deviations are normal axes by the AHA limits, so model and measurement disagree there by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Finding", "reconcile"]

AXIS_NORMAL_DEG = (-30.0, 90.0)
QRS_WIDE_MS = 120.0
PR_LONG_MS = 200.0


@dataclass(frozen=True)
class Finding:
    """One learned finding with what decided it: ``status`` is ``"likely"``, ``"unlikely"``,
    ``"uncertain - needs review"`` (the model), or ``"present (measured)"`` / ``"absent (measured)"``
    when a measurement settles it; ``evidence`` gives the measurement, ``model_disagrees`` whether the
    model's call (probability 0.5) was the other way."""

    name: str
    probability: float
    sd: float
    status: str
    evidence: str = ""
    model_disagrees: bool = False

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    def sentence(self) -> str:
        """The disagreement in words (empty when model and measurement agree)."""
        if not self.model_disagrees:
            return ""
        said = "likely" if self.probability >= 0.5 else "unlikely"
        return (f"{self.label.capitalize()}: {self.status.split(' (')[0]} by measurement ({self.evidence}); the "
                f"model said {said} ({self.probability:.2f}) and disagreed.")


def _model_status(p: float, uncertain: bool) -> str:
    return "uncertain - needs review" if uncertain else ("likely" if p >= 0.5 else "unlikely")


def _measured(name: str, m) -> tuple[bool, str] | None:
    """(present, evidence) when measurements ``m`` settle finding ``name``; ``None`` when they do not."""
    if m is None or not getattr(m, "n_beats", 0):
        return None
    if name == "axis_deviation" and m.qrs_axis is not None and np.isfinite(m.qrs_axis):
        lo, hi = AXIS_NORMAL_DEG
        ax = float(m.qrs_axis)
        if lo <= ax <= hi:
            return False, f"QRS axis {ax:.0f}°, within {lo:+.0f}° to {hi:+.0f}°"
        side = "left" if -90.0 <= ax < lo else "right" if hi < ax <= 180.0 else "extreme"
        return True, f"QRS axis {ax:.0f}°, {side} axis deviation"
    if name == "conduction":  # measurements confirm a block; normal intervals do not rule out the others
        if np.isfinite(m.qrs_ms) and m.qrs_ms >= QRS_WIDE_MS:
            return True, f"QRS {m.qrs_ms:.0f} ms ≥ {QRS_WIDE_MS:.0f}"
        if np.isfinite(m.pr_ms) and m.pr_ms > PR_LONG_MS:
            return True, f"PR {m.pr_ms:.0f} ms > {PR_LONG_MS:.0f}"
    return None


def reconcile(diagnosis, measurements=None) -> list[Finding]:
    """The findings of a 12-lead ``diagnosis`` (a :class:`~ecg_core.predict.diagnosis.Diagnosis`), each
    settled by ``measurements`` (:class:`~ecg_core.signal.intervals.Measurements` of the same 10 s) where
    they can settle it."""
    out = []
    d = diagnosis
    for c, p, s, u in zip(d.classes, d.probability, d.spread, d.uncertain):
        p, s = float(p), float(s)
        settled = _measured(c, measurements)
        if settled is None:
            out.append(Finding(c, p, s, _model_status(p, bool(u))))
            continue
        present, evidence = settled
        out.append(Finding(c, p, s, "present (measured)" if present else "absent (measured)", evidence,
                           model_disagrees=(p >= 0.5) != present))
    return out
