"""P, QRS and T waves of a lead: the vocabulary every room shares (readers of wave marks, the
delineators, the renderer, training and measurement), kept on the ground floor with the record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .record import STANDARD_12_LEADS

__all__ = ["WAVES", "WAVE_LABELS", "LeadWaves", "runs", "waves_from_labels", "lead_slots"]

#: wave kinds, in the order of segmentation labels 1, 2, 3 (0 is background)
WAVES = ("P", "QRS", "T")
WAVE_LABELS = {"P": 1, "QRS": 2, "T": 3}
_MIN_MS = {"P": 20.0, "QRS": 30.0, "T": 40.0}
_GAP_MS = 16.0


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


def runs(mask: np.ndarray) -> np.ndarray:
    """``(n, 2)`` start and end (inclusive) of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]]))
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
    gaps up to 16 ms inside a wave are closed. The QRS peak is the R wave (the largest positive
    deflection, as LUDB marks it), P and T peaks the largest deflection from the line joining the
    wave's ends."""
    labels = np.asarray(labels)
    gap = int(round(_GAP_MS / 1000 * fs))
    out = {}
    for kind in WAVES:
        found = runs(labels == WAVE_LABELS[kind])
        if len(found) > 1 and gap > 0:  # close short gaps
            merged = [found[0].copy()]
            for a, b in found[1:]:
                if a - merged[-1][1] - 1 <= gap:
                    merged[-1][1] = b
                else:
                    merged.append(np.array([a, b]))
            found = np.array(merged)
        min_len = _MIN_MS[kind] / 1000 * fs
        found = found[(found[:, 1] - found[:, 0] + 1) >= min_len] if len(found) else found
        out[kind] = np.array([(a, _peak(x, a, b, kind), b) for a, b in found], dtype=np.int64).reshape(-1, 3)
    return LeadWaves(**out)


def lead_slots(names: tuple[str, ...]) -> list[int]:
    """Which of the 12 standard lead slots each lead of a record fills (MLII -> II, MLI -> I, an unknown
    name -> II, the lead that shows P waves best)."""
    alias = {"MLII": "II", "MLI": "I", "MLIII": "III", "ECG": "II"}
    out = []
    for n in names:
        n = alias.get(n, n)
        out.append(STANDARD_12_LEADS.index(n) if n in STANDARD_12_LEADS else STANDARD_12_LEADS.index("II"))
    return out
