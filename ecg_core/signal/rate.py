"""RR intervals and heart rate from R-peak indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeartRate", "rr_intervals", "heart_rate"]


@dataclass(frozen=True)
class HeartRate:
    """Heart rate summary in beats per minute; ``nan`` when fewer than two beats.

    ``min_bpm``/``max_bpm`` are over a running median of 5 RR intervals, so one ectopic beat or a missed
    beat does not set the extremes (the way Holter reports quote them).
    """

    mean_bpm: float
    min_bpm: float
    max_bpm: float
    n_beats: int
    rr_mean_s: float
    rr_sd_s: float


def rr_intervals(r_idx: np.ndarray, fs: float) -> np.ndarray:
    """RR intervals in seconds between consecutive R peaks (length ``len(r_idx) - 1``)."""
    r = np.sort(np.asarray(r_idx, dtype=np.int64))
    return np.diff(r) / float(fs)


def heart_rate(r_idx: np.ndarray, fs: float) -> HeartRate:
    """Mean, min and max heart rate and RR statistics from R-peak indices.

    Example:
        >>> hr = heart_rate(np.arange(0, 3600, 360), fs=360)  # one beat a second
        >>> round(hr.mean_bpm)
        60
    """
    rr = rr_intervals(r_idx, fs)
    n = int(len(np.asarray(r_idx)))
    if len(rr) == 0:
        nan = float("nan")
        return HeartRate(nan, nan, nan, n, nan, nan)
    if len(rr) >= 5:
        from scipy.ndimage import median_filter

        smooth = median_filter(rr, size=5, mode="nearest")
    else:
        smooth = rr
    return HeartRate(mean_bpm=float(60.0 / rr.mean()), min_bpm=float(60.0 / smooth.max()),
                     max_bpm=float(60.0 / smooth.min()), n_beats=n, rr_mean_s=float(rr.mean()),
                     rr_sd_s=float(rr.std()))
