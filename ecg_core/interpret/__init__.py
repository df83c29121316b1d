"""12-lead interpretation: standard statements with their evidence, from a record's measurements.

``interpret(facts)`` evaluates the criteria table (:mod:`ecg_core.interpret.criteria`) on the named
measurements of one record (:class:`Facts`, built by :func:`facts_from` from a delineation and its median
beats); :func:`ecg_core.pipeline.read` does the whole read of a record and returns them together.
"""

from .criteria import CATEGORIES, CRITERIA, TERRITORIES, Criterion, st_elevation_limit
from .engine import LEARNED_THRESHOLD, NORMAL_CODES, POOR_QUALITY_LEADS, Interpretation, Learned, Statement, interpret
from .facts import Facts, facts_from, rhythm_facts
from .measures import MEASURE_NAMES, LeadMeasures, lead_measures

__all__ = ["interpret", "Interpretation", "Statement", "Learned", "LEARNED_THRESHOLD", "Facts", "facts_from",
           "rhythm_facts", "LeadMeasures", "lead_measures", "MEASURE_NAMES", "Criterion", "CRITERIA", "CATEGORIES",
           "TERRITORIES",
           "NORMAL_CODES", "POOR_QUALITY_LEADS", "st_elevation_limit"]
