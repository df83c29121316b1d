"""Plotly figures of what other rooms computed; functions here draw, they do not analyse."""

from .paper import (
    STANDARD_12_LAYOUT,
    WAVE_COLOURS,
    add_wave_overlay,
    aux_figure,
    cam_strip_figure,
    diagnosis_figure,
    ecg_paper_figure,
    median_beat_figure,
    minmax_decimate,
    overview_figure,
    rollout_figure,
)

__all__ = ["STANDARD_12_LAYOUT", "WAVE_COLOURS", "add_wave_overlay", "aux_figure", "cam_strip_figure",
           "diagnosis_figure", "ecg_paper_figure", "median_beat_figure", "minmax_decimate", "overview_figure",
           "rollout_figure"]
