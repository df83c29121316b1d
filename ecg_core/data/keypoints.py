"""Beat keypoints on rendered ECG pages: the ground truth of the image keypoint detector (ViT-DETR).

One object per (lead panel, heartbeat): the beat's box on the page, its lead, and five keypoints with
their visibility: P (P-wave peak), Q (QRS onset), R (QRS peak), S (QRS offset), T (T-wave peak). LUDB
marks P, QRS and T onset/peak/offset per lead, not Q and S points, so Q and S here are the QRS onset
and offset. A keypoint is visible when it is marked and drawn in the beat's panel. Only the annotated
span of a record is drawn, so every drawn beat has its marks (LUDB leaves the first and last beats
unmarked; an unmarked drawn beat would teach the detector that beats are background).

Coordinates are pixels of the rendered page; :func:`page_sample` resizes page and targets to a model's
input size and, optionally, photographs them (:func:`ecg_core.data.render.photo_augment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..record import Record
from ..waves import LeadWaves
from .ludb import annotated_span
from .render import MM_PER_S, Rendered, RenderStyle, photo_augment, render_record, shrink_page

__all__ = ["KEYPOINTS", "BeatObjects", "beat_objects", "beat_times", "render_beats", "page_sample", "marked_window"]

KEYPOINTS = ("P", "Q", "R", "S", "T")
_P_BEFORE_S = 0.40  # a P peak belongs to the QRS whose onset follows within this
_T_AFTER_S = 0.70  # a T peak belongs to the QRS whose offset precedes within this


@dataclass
class BeatObjects:
    """Objects of one page: ``boxes`` ``(n, 4)`` x0, y0, x1, y1; ``leads`` ``(n,)`` lead index (record
    order); ``kps`` ``(n, 5, 2)`` x, y of P, Q, R, S, T; ``vis`` ``(n, 5)`` visibility; ``panel`` ``(n,)``
    index of the panel each object is drawn in; ``times`` ``(n, 5)`` seconds of each keypoint (NaN when
    not marked)."""

    boxes: np.ndarray
    leads: np.ndarray
    kps: np.ndarray
    vis: np.ndarray
    panel: np.ndarray
    times: np.ndarray

    def __len__(self) -> int:
        return len(self.leads)


def marked_window(waves: list[LeadWaves], fs: float) -> tuple[float, float] | None:
    """Seconds ``(start, end)`` where every marked lead has its marks (the intersection of the leads'
    annotated spans, from the first onset to the last offset), or None when nothing is marked."""
    spans = [sp for sp in (annotated_span(w) for w in waves) if sp is not None]
    if not spans:
        return None
    a, b = max(s for s, _ in spans), min(e for _, e in spans)
    return (a / fs, (b + 1) / fs) if b > a else None


def beat_times(w: LeadWaves, fs: float) -> np.ndarray:
    """``(n_qrs, 7)`` seconds per QRS: P peak, QRS onset, R, QRS offset, T peak, beat start, beat end."""
    q = w["QRS"]
    out = np.full((len(q), 7), np.nan)
    for i, (on, pk, off) in enumerate(q):
        out[i, 1:4] = (on / fs, pk / fs, off / fs)
        start, end = on / fs, off / fs
        p = w["P"]
        if len(p):
            d = (on - p[:, 1]) / fs
            j = np.flatnonzero((d > 0) & (d < _P_BEFORE_S))
            if len(j):
                k = j[np.argmin(d[j])]
                out[i, 0] = p[k, 1] / fs
                start = min(start, (p[k, 0] if p[k, 0] >= 0 else p[k, 1]) / fs)
        t = w["T"]
        if len(t):
            d = (t[:, 1] - off) / fs
            nxt = q[i + 1, 0] if i + 1 < len(q) else np.inf
            j = np.flatnonzero((d > 0) & (d < _T_AFTER_S) & (t[:, 1] < nxt))
            if len(j):
                k = j[np.argmin(d[j])]
                out[i, 4] = t[k, 1] / fs
                end = max(end, (t[k, 2] if t[k, 2] >= 0 else t[k, 1]) / fs)
        out[i, 5:] = (start, end)
    return out


def beat_objects(record: Record, waves: list[LeadWaves], page: Rendered) -> BeatObjects:
    """The beat objects of a rendered page of ``record`` whose marks are ``waves`` (record lead order)."""
    fs = record.fs
    ppm = page.px_per_mm
    boxes, leads, kps, vis, panels, times = [], [], [], [], [], []
    for k, p in enumerate(page.panels):
        bt = beat_times(waves[p.lead_index], fs)
        sig = record.signal[p.lead_index]
        for row in bt:
            if not (p.t0 <= row[2] < p.t1):
                continue
            xs = p.box[0] + (row[:5] - p.t0) * MM_PER_S * ppm
            idx = np.clip(np.round(np.nan_to_num(row[:5]) * fs).astype(np.int64), 0, len(sig) - 1)
            ys = p.baseline_y - (sig[idx] - page.offsets_mv[k]) * 10.0 * ppm
            v = np.isfinite(row[:5]) & (row[:5] >= p.t0) & (row[:5] < p.t1)
            t0, t1 = max(row[5], p.t0), min(row[6], p.t1)
            a, b = int(np.floor(t0 * fs)), int(np.ceil(t1 * fs)) + 1
            seg = sig[a:b] - page.offsets_mv[k]
            y_hi = p.baseline_y - float(seg.max()) * 10.0 * ppm - ppm
            y_lo = p.baseline_y - float(seg.min()) * 10.0 * ppm + ppm
            x0 = p.box[0] + (t0 - p.t0) * MM_PER_S * ppm
            x1 = p.box[0] + (t1 - p.t0) * MM_PER_S * ppm
            boxes.append((x0, y_hi, x1, y_lo))
            leads.append(p.lead_index)
            kps.append(np.stack([xs, ys], axis=1))
            vis.append(v)
            panels.append(k)
            times.append(np.where(v, row[:5], np.nan))
    if not boxes:
        z = np.zeros((0,))
        return BeatObjects(np.zeros((0, 4)), z.astype(np.int64), np.zeros((0, 5, 2)), np.zeros((0, 5), bool),
                           z.astype(np.int64), np.zeros((0, 5)))
    return BeatObjects(np.asarray(boxes, np.float64), np.asarray(leads, np.int64),
                       np.nan_to_num(np.asarray(kps, np.float64)), np.asarray(vis, bool),
                       np.asarray(panels, np.int64), np.asarray(times, np.float64))


def render_beats(record: Record, waves: list[LeadWaves], style: RenderStyle | None = None,
                 window: tuple[float, float] | None = None) -> tuple[Rendered, BeatObjects]:
    """Render the marked window of ``record`` (or ``window``, seconds) and its beat objects."""
    if window is None:
        window = marked_window(waves, record.fs)
        if window is None:
            raise ValueError(f"{record.name}: no marks to render")
    page = render_record(record, start_s=window[0], duration_s=window[1] - window[0], style=style)
    return page, beat_objects(record, waves, page)


def page_sample(page: Rendered, objects: BeatObjects, size: tuple[int, int] = (512, 1024),
                rng: np.random.Generator | None = None, photo: float = 0.0,
                keep_page: bool = False) -> dict[str, np.ndarray]:
    """The page resized to ``size`` (H, W) with its targets in [0, 1] image coordinates, optionally
    photographed with ``photo`` strength. Returns ``image`` (H, W, 3) uint8, ``boxes`` (n, 4) cx, cy, w, h,
    ``kps`` (n, 5, 2), ``vis`` (n, 5), ``leads`` (n,), ``mm_x`` / ``mm_y`` (one millimetre of paper in
    image units, for tolerances: 40 ms is one millimetre at 25 mm/s); with ``keep_page`` also ``page``, the
    (photographed) page before resizing."""
    h, w = size
    img = page.image
    ph, pw = img.shape[:2]
    corners = np.stack([objects.boxes[:, [0, 1]], objects.boxes[:, [2, 1]], objects.boxes[:, [0, 3]],
                        objects.boxes[:, [2, 3]]], axis=1).reshape(-1, 2)
    pts = np.concatenate([corners, objects.kps.reshape(-1, 2)]) if len(objects) else np.zeros((0, 2))
    if photo > 0:
        img, pts = photo_augment(img, pts, rng, photo)
    page_img = img
    img = shrink_page(img, size)
    pts = pts / np.array([pw, ph])
    n = len(objects)
    c = pts[:4 * n].reshape(n, 4, 2)
    lo, hi = c.min(axis=1).clip(0, 1), c.max(axis=1).clip(0, 1)
    boxes = np.concatenate([(lo + hi) / 2, hi - lo], axis=1)
    kps = pts[4 * n:].reshape(n, 5, 2)
    vis = objects.vis & (kps >= 0).all(axis=2) & (kps <= 1).all(axis=2)
    out = {"image": img, "boxes": boxes.astype(np.float32), "kps": kps.astype(np.float32), "vis": vis,
           "leads": objects.leads.copy(), "mm_x": np.float32(page.px_per_mm / pw),
           "mm_y": np.float32(page.px_per_mm / ph)}
    if keep_page:
        out["page"] = page_img
    return out
