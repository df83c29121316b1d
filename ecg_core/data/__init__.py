"""Datasets and generated records."""

from .beats import AAMI_CLASSES, DS1, DS2, BeatFeatures, BeatSet, beat_features, label_beats, mitdb_beats
from .demo import demo_record

__all__ = ["AAMI_CLASSES", "DS1", "DS2", "BeatFeatures", "BeatSet", "beat_features", "demo_record", "label_beats",
           "mitdb_beats"]
