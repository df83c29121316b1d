"""Signal processing: filters, resampling, R peaks, heart rate, quality, beat comparison, delineation and
intervals."""

from .compare import BeatComparison, compare_beats, episode_mask_intervals, matched_symbols
from .delineation import DELINEATION_METHODS, Delineation
from .filters import bandpass, clean, notch, remove_baseline, resample
from .intervals import Measurements, measure, qtc
from .quality import LeadQuality, Stretch, bad_stretches, lead_quality, usable_runs
from .rate import HeartRate, heart_rate, rr_intervals, rr_series
from .rpeaks import RPEAK_METHODS, detect_rpeaks

__all__ = [
    "DELINEATION_METHODS",
    "RPEAK_METHODS",
    "Delineation",
    "Measurements",
    "measure",
    "qtc",
    "BeatComparison",
    "HeartRate",
    "LeadQuality",
    "Stretch",
    "bad_stretches",
    "bandpass",
    "clean",
    "compare_beats",
    "detect_rpeaks",
    "episode_mask_intervals",
    "heart_rate",
    "lead_quality",
    "matched_symbols",
    "notch",
    "remove_baseline",
    "resample",
    "rr_intervals",
    "rr_series",
    "usable_runs",
]
