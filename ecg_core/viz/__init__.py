"""Plotly figures of what other rooms computed; functions here draw, they do not analyse."""

from .paper import STANDARD_12_LAYOUT, ecg_paper_figure, minmax_decimate, overview_figure

__all__ = ["STANDARD_12_LAYOUT", "ecg_paper_figure", "minmax_decimate", "overview_figure"]
