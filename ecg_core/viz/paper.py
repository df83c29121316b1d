"""ECG paper figures (Plotly): 25 mm/s, 10 mm/mV, 1 mm and 5 mm grid, calibration pulse, lead labels.

Time is in seconds and amplitude in mV on one pair of axes with a fixed aspect (1 s : 1 mV drawn as
25 mm : 10 mm), so the grid squares are square and every row shares the paper like a printed ECG.
Long windows are min/max decimated so no figure sends more than ``max_points`` points while QRS
peaks keep their height.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..data.render import STANDARD_3X4, panel_layout
from ..record import Record

__all__ = ["ecg_paper_figure", "overview_figure", "minmax_decimate", "STANDARD_12_LAYOUT", "add_wave_overlay",
           "median_beat_figure", "diagnosis_figure", "cam_strip_figure", "WAVE_COLOURS"]

STANDARD_12_LAYOUT = STANDARD_3X4
_PAPER = "#fff5f5"
_MINOR = "#f6c8c8"
_MAJOR = "#e58a8a"
_TRACE = "#111111"
_ROW_MV = 3.0  # 30 mm between baselines
_CAL_S = 0.2  # calibration pulse: 1 mV high, 0.2 s wide, drawn before each row
#: colours of the P, QRS and T overlays (span fill uses them at low opacity)
WAVE_COLOURS = {"P": "#2ca02c", "QRS": "#1f77b4", "T": "#9467bd"}


def _window(record: Record, start_s: float, duration_s: float) -> tuple[float, float]:
    start_s = float(max(0.0, min(start_s, record.duration_s - 0.5)))
    return start_s, float(min(duration_s, record.duration_s - start_s))


def minmax_decimate(t: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the min and max of each bucket (in time order) so at most ``max_points`` remain.

    Unlike plain subsampling, every QRS keeps its peak: a bucket's extremes are both drawn.
    """
    n = len(y)
    if n <= max_points or max_points < 4:
        return t, y
    n_buckets = max_points // 2
    size = int(np.ceil(n / n_buckets))
    n_full = n // size * size
    yb = y[:n_full].reshape(-1, size)
    i_min = yb.argmin(axis=1)
    i_max = yb.argmax(axis=1)
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    base = np.arange(yb.shape[0]) * size
    idx = np.empty(2 * yb.shape[0], dtype=np.int64)
    idx[0::2] = base + first
    idx[1::2] = base + second
    if n_full < n:
        idx = np.concatenate([idx, [n_full + int(np.argmin(y[n_full:])), n_full + int(np.argmax(y[n_full:]))]])
        idx = np.sort(idx)
    return t[idx], y[idx]


def ecg_paper_figure(record: Record, signal: np.ndarray | None = None, *, r_idx: np.ndarray | None = None,
                     beat_labels: list[str] | None = None, start_s: float = 0.0, duration_s: float = 10.0,
                     max_points: int = 100_000, title: str | None = None) -> go.Figure:
    """Draw ``record`` (or ``signal``, e.g. its filtered version) on ECG paper.

    Args:
        record: the record (lead names, fs).
        signal: ``(n_leads, n_samples)`` mV to draw instead of ``record.signal``.
        r_idx: beat sample indices to mark (on every row, at its top).
        beat_labels: one class label per beat (hover text and colour).
        start_s, duration_s: the window to draw.
        max_points: total points budget of all traces.

    Returns:
        a Plotly figure; 12-lead records use the standard 3x4 layout (2.5 s a column for a 10 s window)
        plus a 10 s lead II rhythm strip, other records a strip per lead.
    """
    sig = record.signal if signal is None else np.asarray(signal)
    fs = record.fs
    start_s, duration_s = _window(record, start_s, duration_s)
    panels = panel_layout(record, start_s, duration_s)
    n_rows = max(p[4] for p in panels) + 1
    budget = max(200, max_points // len(panels))
    fig = go.Figure()
    xs, ys = [], []
    for label, lead, t0, t1, row in panels:
        a, b = int(t0 * fs), min(int(np.ceil(t1 * fs)), sig.shape[1])
        t = np.arange(a, b) / fs
        y = sig[lead, a:b].astype(np.float64)
        y = y - np.median(y) if len(y) else y
        td, yd = minmax_decimate(t, y, budget)
        off = -row * _ROW_MV
        xs.append(td)
        ys.append(yd + off)
        xs.append([np.nan])
        ys.append([np.nan])
        fig.add_annotation(x=t0 + 0.03, y=off + 1.2, text=f"<b>{label}</b>", showarrow=False, xanchor="left",
                           font=dict(size=13, color="#222"))
    fig.add_trace(go.Scattergl(x=np.concatenate(xs), y=np.concatenate(ys), mode="lines",
                               line=dict(color=_TRACE, width=1.1), hoverinfo="skip", name="ECG",
                               showlegend=False))
    # calibration pulse (1 mV, 0.2 s) before each row
    cx, cy = [], []
    for row in range(n_rows):
        off = -row * _ROW_MV
        x0 = start_s - 0.35
        cx += [x0, x0 + 0.05, x0 + 0.05, x0 + 0.05 + _CAL_S, x0 + 0.05 + _CAL_S, x0 + 0.3, None]
        cy += [off, off, off + 1, off + 1, off, off, None]
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line=dict(color=_TRACE, width=1.5), hoverinfo="skip",
                             showlegend=False, name="1 mV calibration"))
    if r_idx is not None and len(r_idx):
        r = np.asarray(r_idx)
        keep = (r >= start_s * fs) & (r < (start_s + duration_s) * fs)
        rt = r[keep] / fs
        labels = np.asarray(beat_labels)[keep] if beat_labels is not None else np.array(["beat"] * len(rt))
        colours = {"N": "#1f77b4", "V": "#d62728", "S": "#ff7f0e", "A": "#ff7f0e", "F": "#9467bd", "Q": "#7f7f7f"}
        top_row = n_rows - 1 if n_rows == 4 and len(panels) == 13 else 0
        y_mark = -top_row * _ROW_MV + 1.6
        for lab in sorted(set(labels.tolist())):
            sel = labels == lab
            fig.add_trace(go.Scatter(
                x=rt[sel], y=np.full(sel.sum(), y_mark), mode="markers",
                name="beat" if lab == "beat" else f"beat {lab}",
                marker=dict(symbol="triangle-down", size=9, color=colours.get(lab, "#2ca02c")),
                hovertemplate="%{x:.3f} s<extra>" + lab + "</extra>"))
    x0, x1 = start_s - 0.4, start_s + duration_s + 0.05
    y0, y1 = -(n_rows - 1) * _ROW_MV - 1.5, 2.0
    # a large box every 0.2 s, labelled every second (a label per box crowds and tilts them)
    fig.update_xaxes(range=[x0, x1], dtick=0.2, tick0=0, ticklabelstep=5, showgrid=True, gridcolor=_MAJOR, gridwidth=1,
                     minor=dict(dtick=0.04, showgrid=True, gridcolor=_MINOR, gridwidth=0.5),
                     zeroline=False, title_text="time (s)  ·  25 mm/s", showticklabels=True, ticks="")
    fig.update_yaxes(range=[y0, y1], dtick=0.5, tick0=0, showgrid=True, gridcolor=_MAJOR, gridwidth=1,
                     minor=dict(dtick=0.1, showgrid=True, gridcolor=_MINOR, gridwidth=0.5),
                     zeroline=False, scaleanchor="x", scaleratio=0.4, showticklabels=False,
                     title_text="10 mm/mV")
    width_px = 1100
    px_per_s = width_px / (x1 - x0)
    height_px = int((y1 - y0) * px_per_s * 0.4) + 90
    fig.update_layout(plot_bgcolor=_PAPER, paper_bgcolor="white", height=height_px,
                      margin=dict(l=20, r=20, t=40 if title else 10, b=40), title=title,
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
                      dragmode="pan")
    return fig


def overview_figure(record: Record, signal: np.ndarray | None = None, *, lead: int = 0,
                    window: tuple[float, float] | None = None, r_idx: np.ndarray | None = None,
                    max_points: int = 8000) -> go.Figure:
    """The whole record in one lead (min/max decimated) with the current window shaded, and the
    instantaneous heart rate from ``r_idx`` on a second axis, for moving through long records."""
    sig = record.signal if signal is None else np.asarray(signal)
    t = np.arange(sig.shape[1]) / record.fs
    td, yd = minmax_decimate(t, sig[lead].astype(np.float64), max_points)
    fig = go.Figure(go.Scattergl(x=td, y=yd, mode="lines", line=dict(color="#333", width=0.7),
                                 name=record.lead_names[lead], hoverinfo="skip"))
    if r_idx is not None and len(r_idx) > 2:
        r = np.asarray(r_idx)
        hr = 60.0 / (np.diff(r) / record.fs)
        tt = r[1:] / record.fs
        if len(tt) > max_points // 2:
            tt, hr = minmax_decimate(tt, hr, max_points // 2)
        fig.add_trace(go.Scattergl(x=tt, y=hr, mode="markers", marker=dict(size=2, color="#d62728"),
                                   name="heart rate (bpm)", yaxis="y2",
                                   hovertemplate="%{x:.1f} s: %{y:.0f} bpm<extra></extra>"))
    if window:
        fig.add_vrect(x0=window[0], x1=window[1], fillcolor="#1f77b4", opacity=0.2, line_width=0)
    fig.update_layout(height=170, margin=dict(l=40, r=40, t=10, b=30), showlegend=False,
                      xaxis=dict(title_text="time (s)"), yaxis=dict(title_text="mV"),
                      yaxis2=dict(overlaying="y", side="right", title_text="bpm", showgrid=False))
    return fig


def aux_figure(record: Record, *, start_s: float = 0.0, duration_s: float = 10.0,
               max_points: int = 4000) -> go.Figure | None:
    """The record's auxiliary channels (blood pressure, pleth, respiration...) for the window shown on
    the paper above, one row each in its own unit; ``None`` when the record has none."""
    if not record.aux:
        return None
    from plotly.subplots import make_subplots

    start_s, duration_s = _window(record, start_s, duration_s)
    n = len(record.aux)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.04)
    for row, ch in enumerate(record.aux, start=1):
        a = max(0, int(start_s * ch.fs))
        b = min(len(ch.signal), int(np.ceil((start_s + duration_s) * ch.fs)))
        t = np.arange(a, b) / ch.fs if ch.fs > 0 else np.arange(0)
        y = ch.signal[a:b].astype(np.float64)
        if len(t) > max_points:
            t, y = minmax_decimate(t, y, max_points)
        fig.add_trace(go.Scattergl(x=t, y=y, mode="lines", line=dict(color="#1f4e79", width=0.9), name=ch.name,
                                   hovertemplate=f"%{{x:.2f}} s: %{{y:.3g}} {ch.unit}<extra>{ch.name}</extra>"),
                      row=row, col=1)
        fig.update_yaxes(title_text=f"{ch.name} ({ch.unit or 'no unit'})", title_font_size=10, row=row, col=1)
    fig.update_xaxes(range=[start_s, start_s + duration_s], title_text="time (s)", row=n, col=1)
    fig.update_layout(height=90 + 110 * n, margin=dict(l=60, r=20, t=10, b=30), showlegend=False)
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def add_wave_overlay(fig: go.Figure, record: Record, waves, signal: np.ndarray | None = None, *,
                     start_s: float = 0.0, duration_s: float = 10.0, kinds: tuple[str, ...] = ("P", "QRS", "T"),
                     leads: list[str] | None = None, label: str = "", spans: bool = True,
                     marker: str = "circle") -> go.Figure:
    """Shade each wave's span (onset to offset) and mark its peak on a figure drawn by
    :func:`ecg_paper_figure` with the same record, signal and window.

    ``waves``: one :class:`~ecg_core.signal.delineation.LeadWaves` per lead; ``kinds`` and ``leads`` pick
    what is drawn; ``label`` prefixes the legend entries (e.g. the method), ``spans=False`` draws peaks
    and onset/offset ticks only (to compare a second method on top of the first).
    """
    sig = record.signal if signal is None else np.asarray(signal)
    fs = record.fs
    start_s, duration_s = _window(record, start_s, duration_s)
    panels = panel_layout(record, start_s, duration_s)
    prefix = f"{label} " if label else ""
    for kind in kinds:
        colour = WAVE_COLOURS.get(kind, "#555")
        sx, sy, px, py, tx, ty = [], [], [], [], [], []
        for name, lead, t0, t1, row in panels:
            if leads is not None and name not in leads:
                continue
            a, b = int(t0 * fs), min(int(np.ceil(t1 * fs)), sig.shape[1])
            if b <= a:
                continue
            med = float(np.median(sig[lead, a:b]))
            off = -row * _ROW_MV
            for on, pk, end in waves[lead][kind]:
                lo, hi = (on if on >= 0 else pk), (end if end >= 0 else pk)
                if hi < a or lo >= b:
                    continue
                lo, hi = max(lo, a), min(hi, b - 1)
                if spans:
                    sx += [lo / fs, hi / fs, hi / fs, lo / fs, lo / fs, None]
                    sy += [off - 1.2, off - 1.2, off + 1.2, off + 1.2, off - 1.2, None]
                else:
                    for e in (on, end):
                        if a <= e < b:
                            tx += [e / fs, e / fs, None]
                            ty += [off - 0.6, off + 0.6, None]
                if a <= pk < b:
                    px.append(pk / fs)
                    py.append(float(sig[lead, pk]) - med + off)
        if spans and sx:
            fig.add_trace(go.Scatter(x=sx, y=sy, fill="toself", mode="lines", line=dict(width=0),
                                     fillcolor=_rgba(colour, 0.18), name=f"{prefix}{kind} span",
                                     legendgroup=f"{prefix}{kind}", hoverinfo="skip"))
        if tx:
            fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", line=dict(color=colour, width=1.5, dash="dot"),
                                     name=f"{prefix}{kind} on/off", legendgroup=f"{prefix}{kind}",
                                     hoverinfo="skip"))
        if px:
            fig.add_trace(go.Scatter(x=px, y=py, mode="markers", legendgroup=f"{prefix}{kind}",
                                     marker=dict(symbol=marker, size=6, color=colour,
                                                 line=dict(width=1, color="white")),
                                     name=f"{prefix}{kind} peak",
                                     hovertemplate="%{x:.3f} s<extra>" + prefix + kind + "</extra>"))
    return fig


def median_beat_figure(beats: np.ndarray, fs: float, r0: int, lead_names: tuple[str, ...],
                       fiducials: dict[str, float] | None = None) -> go.Figure:
    """Median beat of every lead (``(n_leads, n)`` mV, R at sample ``r0``) in a grid of small panels,
    with the global fiducials (``{"p_on": samples from R, ...}``) as vertical lines."""
    from plotly.subplots import make_subplots

    n = len(lead_names)
    cols = 4 if n > 4 else n
    rows = int(np.ceil(n / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(lead_names), shared_yaxes=True,
                        horizontal_spacing=0.03, vertical_spacing=0.12)
    t_ms = (np.arange(beats.shape[1]) - r0) / fs * 1000.0
    lines = {"p_on": "P", "p_off": "P", "qrs_on": "QRS", "qrs_off": "QRS", "t_off": "T"}
    for i in range(n):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Scatter(x=t_ms, y=beats[i], mode="lines", line=dict(color=_TRACE, width=1.2),
                                 name=lead_names[i], showlegend=False,
                                 hovertemplate="%{x:.0f} ms: %{y:.2f} mV<extra>" + lead_names[i] + "</extra>"),
                      row=r, col=c)
        for key, kind in lines.items():
            v = (fiducials or {}).get(key)
            if v is not None and np.isfinite(v):
                fig.add_vline(x=v / fs * 1000.0, line=dict(color=WAVE_COLOURS[kind], width=1, dash="dash"),
                              row=r, col=c)
    fig.update_layout(height=190 * rows + 40, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor=_PAPER)
    fig.update_xaxes(showgrid=True, gridcolor=_MINOR, dtick=200, title_text="")
    fig.update_yaxes(showgrid=True, gridcolor=_MINOR, dtick=0.5)
    return fig


def diagnosis_figure(classes: list[str], probability, spread, uncertain) -> go.Figure:
    """Horizontal bars of per-class probability with ±1 SD whiskers; uncertain classes in amber."""
    p, sd = np.asarray(probability, dtype=float), np.asarray(spread, dtype=float)
    colours = ["#f0a202" if u else ("#d62728" if v >= 0.5 else "#1f77b4") for v, u in zip(p, uncertain)]
    fig = go.Figure(go.Bar(x=p, y=[c.replace("_", " ") for c in classes], orientation="h", marker_color=colours,
                           error_x=dict(type="data", array=sd, visible=True, color="#333"),
                           hovertemplate="%{y}: %{x:.2f}<extra></extra>"))
    fig.add_vline(x=0.5, line=dict(color="#888", dash="dot"))
    fig.update_layout(height=60 + 34 * len(classes), margin=dict(l=10, r=10, t=10, b=30),
                      xaxis=dict(range=[0, 1], title_text="probability"), yaxis=dict(autorange="reversed"))
    return fig


def cam_strip_figure(signal: np.ndarray, fs: float, cam: np.ndarray, cam_fs: float, label: str,
                     method: str = "Grad-CAM", lead: str = "II") -> go.Figure:
    """One lead (``signal``, mV at ``fs``) with an attribution heat band (``cam`` in [0, 1] at ``cam_fs``)
    behind it; ``method`` names the attribution (Grad-CAM, integrated gradients)."""
    t = np.arange(len(signal)) / fs
    tc = np.arange(len(cam)) / cam_fs
    y = signal - np.median(signal)
    fig = go.Figure(go.Heatmap(x=tc, y=[float(y.min()) - 0.2, float(y.max()) + 0.2], z=np.vstack([cam, cam]),
                               colorscale="Reds", zmin=0, zmax=1, showscale=False, opacity=0.6,
                               hovertemplate="%{x:.2f} s: %{z:.2f}<extra>" + method + "</extra>"))
    fig.add_trace(go.Scatter(x=t, y=y, mode="lines", line=dict(color=_TRACE, width=1), hoverinfo="skip",
                             name=f"lead {lead}"))
    fig.update_layout(height=180, margin=dict(l=10, r=10, t=30, b=30), showlegend=False,
                      title=dict(text=f"Where the signal encoder saw <b>{label}</b> ({method}, lead {lead})",
                                 font=dict(size=13)),
                      xaxis=dict(title_text="time (s)"), yaxis=dict(showticklabels=False))
    return fig


def rollout_figure(image: np.ndarray, rollout: np.ndarray, label: str) -> go.Figure:
    """The page image the model saw (``(H, W, 3)`` uint8) with its attention rollout (``(gh, gw)`` patch
    relevance in [0, 1]) laid over it as a translucent heat map."""
    h, w = image.shape[:2]
    gh, gw = rollout.shape
    fig = go.Figure(go.Image(z=image, hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=rollout, x=(np.arange(gw) + 0.5) * w / gw, y=(np.arange(gh) + 0.5) * h / gh,
                             colorscale="Reds", zmin=0, zmax=1, opacity=0.45, showscale=False,
                             hovertemplate="relevance %{z:.2f}<extra>rollout</extra>"))
    # the page puts this beside the Grad-CAM strip in a narrow column: a two-line title that fits there
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=50, b=10),
                      title=dict(text=f"Image patches behind <b>{label}</b><br>(attention rollout)",
                                 font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return fig
