"""Rhythm summary from a sequence of beat classes: ectopy burden, couplets, runs, bigeminy, trigeminy.

Definitions as Holter reports use them: a couplet is exactly two consecutive ectopic beats of one
origin, a run three or more; bigeminy is a stretch where every other beat is ectopic (N-X-N-X..., at
least three ectopic beats); trigeminy every third (N-N-X-N-N-X..., at least three ectopic beats).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["EctopySummary", "ectopy_summary"]


@dataclass(frozen=True)
class EctopySummary:
    """Counts per class, burden (% of all beats) per ectopic class, and episodes per origin ('V', 'S')."""

    n_beats: int
    counts: dict[str, int]
    burden_pct: dict[str, float]
    couplets: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    longest_run: dict[str, int] = field(default_factory=dict)
    bigeminy_episodes: dict[str, int] = field(default_factory=dict)
    trigeminy_episodes: dict[str, int] = field(default_factory=dict)


def _stretches(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist()))


def _n_geminy(labels: np.ndarray, origin: str, period: int) -> int:
    """Episodes where ``origin`` beats recur every ``period`` beats (others normal), >= 3 ectopic beats."""
    idx = np.flatnonzero(labels == origin)
    if len(idx) < 3:
        return 0
    episodes, length = 0, 1
    for a, b in zip(idx[:-1], idx[1:]):
        ok = b - a == period and np.all(labels[a + 1:b] == "N")
        if ok:
            length += 1
        else:
            episodes += length >= 3
            length = 1
    return int(episodes + (length >= 3))


def ectopy_summary(labels: list[str] | np.ndarray,
                   classes: tuple[str, ...] = ("N", "S", "V", "F", "Q")) -> EctopySummary:
    """Summarise beat labels (one class letter per beat, in time order).

    Example:
        >>> s = ectopy_summary(list("NVNVNVNNNVVNNVVVN"))
        >>> s.couplets["V"], s.runs["V"], s.bigeminy_episodes["V"]
        (1, 1, 1)
    """
    lab = np.asarray(labels, dtype="<U1")
    n = len(lab)
    counts = {c: int((lab == c).sum()) for c in classes}
    burden = {c: (100.0 * counts[c] / n if n else 0.0) for c in classes if c != "N"}
    couplets, runs, longest, big, trig = {}, {}, {}, {}, {}
    for origin in ("V", "S"):
        st = _stretches(lab == origin)
        couplets[origin] = sum(1 for _, k in st if k == 2)
        runs[origin] = sum(1 for _, k in st if k >= 3)
        longest[origin] = max((k for _, k in st), default=0)
        big[origin] = _n_geminy(lab, origin, 2)
        trig[origin] = _n_geminy(lab, origin, 3)
    return EctopySummary(n, counts, burden, couplets, runs, longest, big, trig)
