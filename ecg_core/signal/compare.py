"""Beat-by-beat comparison of detected beats against reference annotations, counted as ANSI/AAMI EC57 does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BeatComparison", "compare_beats", "episode_mask_intervals", "matched_symbols"]


@dataclass(frozen=True)
class BeatComparison:
    """Counts of a beat comparison; ``se`` and ``ppv`` are fractions (nan when undefined).

    ``matched_ref_idx`` / ``matched_test_idx`` are the positions of matched pairs in the sorted arrays
    after beats before ``start_s`` and inside ``exclude`` were dropped (with neither given: positions in
    the sorted inputs).
    """

    tp: int
    fn: int
    fp: int
    matched_ref_idx: np.ndarray
    matched_test_idx: np.ndarray

    @property
    def se(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def ppv(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    def __add__(self, other: BeatComparison) -> BeatComparison:
        """Gross totals over records (the pairs are not kept)."""
        empty = np.empty(0, dtype=np.int64)
        return BeatComparison(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp, empty, empty)


def compare_beats(ref_idx: np.ndarray, test_idx: np.ndarray, fs: float, window_ms: float = 150.0,
                  start_s: float = 0.0, exclude: list[tuple[int, int]] | None = None) -> BeatComparison:
    """Match detected beats to reference beats one-to-one within ``window_ms``.

    Each reference beat takes the nearest unmatched detection within the window, in time order, the way
    EC57's ``bxb`` pairs them. Beats before ``start_s`` (EC57 skips the first 5 minutes for some
    statistics) and inside ``exclude`` intervals (sample ranges, e.g. ventricular flutter episodes) are
    ignored on both sides.

    Args:
        ref_idx, test_idx: sample indices (any order; sorted here).
        fs: sampling rate in Hz of both index sets.

    Returns:
        BeatComparison with TP, FN, FP, Se and +P.

    Example:
        >>> c = compare_beats(np.array([100, 460, 820]), np.array([105, 470, 1200]), fs=360)
        >>> (c.tp, c.fn, c.fp)
        (2, 1, 1)
    """
    ref = np.sort(np.asarray(ref_idx, dtype=np.int64))
    test = np.sort(np.asarray(test_idx, dtype=np.int64))
    start = int(round(start_s * fs))

    def _keep(x: np.ndarray) -> np.ndarray:
        k = x >= start
        for a, b in exclude or ():
            k &= ~((x >= a) & (x <= b))
        return x[k]

    ref, test = _keep(ref), _keep(test)
    win = window_ms / 1000.0 * fs
    # candidate pairs: for each reference, the detections just before and after it
    pos = np.searchsorted(test, ref)
    used = np.zeros(len(test), dtype=bool)
    m_ref, m_test = [], []
    for i, p in enumerate(pos):
        best, best_d = -1, win + 1
        for j in (p - 1, p, p + 1):
            if 0 <= j < len(test) and not used[j]:
                d = abs(test[j] - ref[i])
                if d <= win and d < best_d:
                    best, best_d = j, d
        if best >= 0:
            # a later reference beat may be closer to this detection; let it keep the detection if so
            nxt = ref[i + 1] if i + 1 < len(ref) else None
            if nxt is not None and abs(test[best] - nxt) < best_d:
                alt = [j for j in (p - 1, p, p + 1) if 0 <= j < len(test) and not used[j] and j != best
                       and abs(test[j] - ref[i]) <= win]
                if not alt:
                    continue
                best = min(alt, key=lambda j: abs(test[j] - ref[i]))
            used[best] = True
            m_ref.append(i)
            m_test.append(best)
    tp = len(m_ref)
    return BeatComparison(tp=tp, fn=len(ref) - tp, fp=len(test) - tp,
                          matched_ref_idx=np.asarray(m_ref, dtype=np.int64),
                          matched_test_idx=np.asarray(m_test, dtype=np.int64))


def matched_symbols(ref_idx: np.ndarray, ref_symbols: tuple[str, ...] | list[str], test_idx: np.ndarray, fs: float,
                    window_ms: float = 150.0) -> np.ndarray:
    """The reference symbol matched to each detection by :func:`compare_beats` (``""`` when none).

    ``test_idx`` must be sorted (as detectors return it); the result follows its order.
    """
    c = compare_beats(ref_idx, test_idx, fs, window_ms=window_ms)
    sym = np.asarray(ref_symbols, dtype=object)[np.argsort(np.asarray(ref_idx), kind="stable")]
    out = np.full(len(test_idx), "", dtype=object)
    out[c.matched_test_idx] = sym[c.matched_ref_idx]
    return out


def episode_mask_intervals(sample_idx: np.ndarray, symbol: tuple[str, ...], start: str = "[",
                           stop: str = "]") -> list[tuple[int, int]]:
    """Sample intervals between episode marks (MIT-BIH: ``[`` ... ``]`` brackets ventricular flutter)."""
    out, open_at = [], None
    for s, sym in zip(sample_idx, symbol):
        if sym == start and open_at is None:
            open_at = int(s)
        elif sym == stop and open_at is not None:
            out.append((open_at, int(s)))
            open_at = None
    if open_at is not None:
        out.append((open_at, int(sample_idx[-1]) if len(sample_idx) else open_at))
    return out
