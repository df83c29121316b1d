"""Signal processing: filters, resampling, R peaks, heart rate, quality and beat comparison."""

from .compare import BeatComparison, compare_beats, episode_mask_intervals, matched_symbols
from .filters import bandpass, clean, notch, remove_baseline, resample
from .quality import LeadQuality, lead_quality
from .rate import HeartRate, heart_rate, rr_intervals
from .rpeaks import RPEAK_METHODS, detect_rpeaks

__all__ = [
    "RPEAK_METHODS",
    "BeatComparison",
    "HeartRate",
    "LeadQuality",
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
]
