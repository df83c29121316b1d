"""RR intervals and heart rate from R-peak indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeartRate", "rr_intervals", "rr_series", "heart_rate"]


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


def rr_series(r_idx: np.ndarray, fs: float, exclude=()) -> np.ndarray:
    """RR intervals (s) of consecutive R peaks, NaN for an interval that spans one of the ``exclude``
    ``(start, stop)`` sample stretches (a stretch that could not be read: beats there are unknown)."""
    r = np.sort(np.asarray(r_idx, dtype=np.int64))
    rr = np.diff(r) / float(fs)
    for a, b in exclude:
        rr[(r[:-1] < b) & (r[1:] > a)] = np.nan
    return rr


def heart_rate(r_idx: np.ndarray, fs: float, exclude=()) -> HeartRate:
    """Mean, min and max heart rate and RR statistics from R-peak indices: the one definition every page,
    the CLI and the report quote.

    Mean = 60 / mean RR; min/max = the extremes of the rate over a running median of 5 RR intervals, and
    never on the wrong side of the mean (in a short strip one long RR pulls the mean below every
    5-beat median). RR intervals that span an ``exclude`` stretch are left out.

    Example:
        >>> hr = heart_rate(np.arange(0, 3600, 360), fs=360)  # one beat a second
        >>> round(hr.mean_bpm)
        60
    """
    rr = rr_series(r_idx, fs, exclude)
    rr = rr[np.isfinite(rr)]
    n = int(len(np.asarray(r_idx)))
    if len(rr) == 0:
        nan = float("nan")
        return HeartRate(nan, nan, nan, n, nan, nan)
    if len(rr) >= 5:  # medians of full windows only: padding an end repeats its last interval
        smooth = np.median(np.lib.stride_tricks.sliding_window_view(rr, 5), axis=1)
    else:
        smooth = rr
    mean = float(60.0 / rr.mean())
    return HeartRate(mean_bpm=mean, min_bpm=min(mean, float(60.0 / smooth.max())),
                     max_bpm=max(mean, float(60.0 / smooth.min())), n_beats=n, rr_mean_s=float(rr.mean()),
                     rr_sd_s=float(rr.std()))
