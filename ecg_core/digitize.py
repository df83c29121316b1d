"""Digitise an image of a printed ECG: grid scale, rows and lead panels, trace to millivolts and seconds.

Classical image processing, in four steps:

1. **Grid scale** (pixels per mm): the paper's grid is periodic; the autocorrelation of the column and row
   profiles of "grid ink" (pixels darker than the paper but not trace-dark) peaks at the major (5 mm) and
   minor (1 mm) spacings; the tenth major peak fixes the scale to a fraction of a pixel. Without a
   visible grid the 1 mV calibration pulse (10 mm tall) gives it.
2. **Trace mask**: pixels much darker than their neighbourhood's paper (a local maximum filter divides out
   uneven light), so shading and coloured or grey grids do not leak in.
3. **Rows and panels**: each row's baseline is a peak of the mask's row profile (flat isoelectric segments
   line up); a row's band runs halfway to its neighbours. The calibration pulse (a 10 mm plateau at a
   row's left) is found and skipped. Four rows are the printed 12-lead format (3 x 4 leads, 2.5 s each,
   plus a lead II rhythm strip, :data:`ecg_core.data.render.STANDARD_3X4`); other counts are strips.
4. **Trace**: in every pixel column, the run of trace pixels closest to the previous column's trace is
   followed (lead labels and neighbouring rows' peaks are skipped); a tall run (a QRS stroke) gives both
   its ends in the order the pen drew them, so peaks keep their height. Positions become seconds (25 mm/s)
   and millivolts (10 mm/mV) from the grid scale, each panel centred on its median as printed.

Written here because no maintained Python package digitises ECG images; ``scipy.ndimage`` and
``scipy.signal`` do the filtering and peak finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.signal import find_peaks

from .data.render import MM_PER_MV, MM_PER_S, STANDARD_3X4
from .errors import ECGError
from .record import STANDARD_12_LEADS, Record

__all__ = ["Digitized", "DigitizedPanel", "digitize", "grid_scale", "skew_angle", "trace_mask", "snr_db",
           "unrotate_points"]


@dataclass
class DigitizedPanel:
    """One lead panel: ``signal`` (mV, median-centred) at ``fs`` over ``t0`` .. ``t1`` seconds of the page."""

    lead: str
    row: int
    t0: float
    t1: float
    signal: np.ndarray
    fs: float
    box: tuple[int, int, int, int]
    zero_px: float = float("nan")  # image row of the signal's 0 mV (in the page as read: its tilt undone)
    px_per_mv: float = float("nan")  # pixels per mV along y

    def to_pixels(self, t: np.ndarray) -> np.ndarray:
        """``(n, 2)`` pixel (x, y) of the trace at page times ``t`` (s) inside the panel, in the straightened
        page the panel was read from (the box spans ``t0`` .. ``t1`` linearly)."""
        t = np.asarray(t, np.float64)
        x0, _, x1, _ = self.box
        x = x0 + (t - self.t0) / max(self.t1 - self.t0, 1e-9) * (x1 - x0)
        v = np.interp(t, self.t0 + np.arange(len(self.signal)) / self.fs, self.signal)
        return np.stack([x, self.zero_px - v * self.px_per_mv], axis=1)


@dataclass
class Digitized:
    panels: list[DigitizedPanel]
    px_per_mm: float  # along x (time)
    px_per_mm_y: float  # along y (voltage)
    layout: str
    scale_from: str  # "grid" or "calibration pulse"
    rotation_deg: float = 0.0  # the page's tilt, undone before reading

    def to_record(self, name: str = "digitised", fs: float = 500.0) -> Record:
        """A Record of the leads read. In the 3 x 4 format each lead is printed for its own 2.5 s, so the
        record places each lead at its time on the page and holds the lead II rhythm strip as lead II
        (10 s); samples of a lead outside its printed window are zero and named in ``metadata``."""
        if self.layout == "3x4":
            strip = next(p for p in self.panels if p.row == 3)
            n = int(round((strip.t1 - strip.t0) * fs))
            order = STANDARD_12_LEADS
            sig = np.zeros((12, n), np.float32)
            windows = {}
            for p in self.panels:
                if p.row == 3:
                    sig[order.index("II")] = _resample(p, fs, n, strip.t0)
                    continue
                a, b = int(round((p.t0 - strip.t0) * fs)), int(round((p.t1 - strip.t0) * fs))
                if p.lead != "II":
                    sig[order.index(p.lead), a:b] = _resample(p, fs, n, strip.t0)[a:b]
                windows[p.lead] = [round(p.t0 - strip.t0, 3), round(p.t1 - strip.t0, 3)]
            meta = {"source format": "digitised image (3x4 + rhythm strip)", "printed windows s": windows}
            return Record(signal=sig, fs=fs, lead_names=order, name=name, metadata=meta)
        n = int(round(max(p.t1 - p.t0 for p in self.panels) * fs))
        sig = np.stack([_resample(p, fs, n, p.t0) for p in self.panels]).astype(np.float32)
        return Record(signal=sig, fs=fs, lead_names=tuple(p.lead for p in self.panels), name=name,
                      metadata={"source format": "digitised image (strips)"})


def _resample(p: DigitizedPanel, fs: float, n: int, t_start: float) -> np.ndarray:
    t = t_start + np.arange(n) / fs
    tp = p.t0 + np.arange(len(p.signal)) / p.fs
    out = np.interp(t, tp, p.signal, left=0.0, right=0.0)
    out[(t < p.t0) | (t > p.t1)] = 0.0
    return out.astype(np.float32)


def _gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        return img.astype(np.float32)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ECGError(f"not an RGB or grey image (array of shape {img.shape})")
    return img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def trace_mask(image: np.ndarray, ratio: float = 0.55) -> np.ndarray:
    """Pixels darker than ``ratio`` times the local paper brightness (a 15-pixel maximum filter), except
    along the edge of large dark areas (the table or scanner lid around a photographed page), whose rim
    would otherwise look like ink."""
    g = _gray(image)
    paper = ndimage.maximum_filter(ndimage.uniform_filter(g, 3), size=15)
    mask = g < ratio * np.maximum(paper, 1.0)
    dark = g < 0.8 * np.percentile(g, 90)
    solid = ndimage.binary_opening(dark[::2, ::2], structure=np.ones((9, 9), bool))  # lines vanish, areas stay
    if solid.any():
        solid = ndimage.binary_dilation(solid, structure=np.ones((7, 7), bool))
        solid = np.repeat(np.repeat(solid, 2, axis=0), 2, axis=1)[:g.shape[0], :g.shape[1]]
        mask &= ~solid
    return mask


def _line_ink(g: np.ndarray, size: int = 7) -> np.ndarray:
    """How much darker each pixel is than the brightest within ``size`` pixels: high on thin lines (grid,
    trace), near zero on paper and inside large dark areas (a table top around a photographed page)."""
    return np.clip(ndimage.maximum_filter(g, size=size) - g, 0, None)


def _autocorr(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / max(ac[0], 1e-12)


def _fundamental(profile: np.ndarray, lo: float = 1.8, hi: float = 26.0) -> tuple[float, float]:
    """The grid line spacing of a profile (pixels) and its comb score: the mean autocorrelation at up to
    ten multiples of the spacing, the smallest spacing that scores within 85 % of the best (a multiple of
    the true spacing scores as well, a fraction worse)."""
    ac = _autocorr(profile)
    n = len(ac)
    cand = np.arange(lo, min(hi, n / 12), 0.02)
    if len(cand) == 0:
        return float("nan"), 0.0
    k = np.arange(1, 11)[None, :]
    lags = cand[:, None] * k
    score = np.interp(lags, np.arange(n), ac).mean(axis=1)
    if not np.isfinite(score).all() or score.max() <= 0:  # a flat profile: no lines at all
        return float("nan"), 0.0
    good = np.flatnonzero(score >= 0.85 * score.max())
    # the first local maximum among the good ones
    i = int(good[0])
    while i + 1 < len(score) and score[i + 1] >= score[i]:
        i += 1
    if i == 0 or i == len(score) - 1:  # no peak inside the range: no grid of a plausible size
        return float("nan"), 0.0
    # refine on every multiple that fits in the image: an error of 1e-4 would shift 10 s of trace by 1 ms
    p = cand[i]
    fine = p * (1 + np.linspace(-0.01, 0.01, 801))
    kk = np.arange(1, max(int(0.7 * n / p), 2))[None, :]
    fscore = np.interp(fine[:, None] * kk, np.arange(n), ac).mean(axis=1)
    return float(fine[int(np.argmax(fscore))]), float(score[i])


def _is_minor(profile: np.ndarray, spacing: float) -> bool:
    """Whether lines ``spacing`` apart are the 1 mm lines: every fifth one (the 5 mm line) carries more
    ink. Lines are sampled at the phase that holds the most ink."""
    x = np.arange(len(profile))
    phases = np.linspace(0, spacing, 8, endpoint=False)
    best = max(phases, key=lambda p: np.interp(np.arange(p, len(profile) - 1, spacing), x, profile).sum())
    ink = np.interp(np.arange(best, len(profile) - 1, spacing), x, profile)
    m = len(ink) // 5 * 5
    if m < 10:
        return False
    groups = ink[:m].reshape(-1, 5).mean(axis=0)
    others = np.sort(groups)[:-1]
    return bool(groups.max() > 1.3 * max(float(np.median(others)), 1e-9) and groups.max() - np.median(others) > 0)


def _grid_ink(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Line ink of the grid alone: the trace (``mask``) blanked out."""
    ink = _line_ink(_gray(image))
    ink[mask] = 0.0
    return ink


def grid_scale(image: np.ndarray, ink: np.ndarray | None = None) -> tuple[float, float, float]:
    """Pixels per millimetre of the printed grid along x (time) and y (voltage), and a confidence in
    [0, 1] (the comb score of the line spacing). The two axes are measured apart (a scan or photo may be
    stretched); an axis without a periodic grid takes the other's scale; NaN when neither has one. The
    spacing found is the 1 mm one when every fifth line is heavier (the 5 mm grid), else it is taken as
    the 5 mm one (minor lines lost to resolution). ``ink``: the image's grid ink when already known."""
    if ink is None:
        ink = _grid_ink(image, trace_mask(image))
    out, conf = [], []
    for axis in (0, 1):  # axis 0 averages rows: the profile along x
        prof = ink.mean(axis=axis)
        prof = prof - np.convolve(prof, np.ones(31) / 31, mode="same")  # remove slow shading
        spacing, score = _fundamental(prof)
        if not np.isfinite(spacing) or score < 0.05:
            out.append(float("nan"))
            conf.append(0.0)
            continue
        out.append(spacing if _is_minor(prof, spacing) else spacing / 5.0)
        conf.append(score)
    x, y = out
    if not np.isfinite(x) and not np.isfinite(y):
        return float("nan"), float("nan"), 0.0
    x = x if np.isfinite(x) else y
    y = y if np.isfinite(y) else x
    if not 0.8 < y / x < 1.25:  # paper is square-ruled: trust the axis whose spacing scored higher
        x = y = x if conf[0] >= conf[1] else y
    return float(x), float(y), float(np.clip(max(conf), 0, 1))


def skew_angle(image: np.ndarray, max_deg: float = 5.0, step: float = 0.1) -> float:
    """The page's rotation in degrees (counter-clockwise positive): the angle whose projection of the
    grid and trace ink onto the rotated x axis is sharpest (grid lines fall into the fewest bins)."""
    g = _gray(image)[::2, ::2]
    ink = _line_ink(g)
    ys, xs = np.nonzero(ink > 0.25 * ink.max()) if ink.max() > 0 else (np.zeros(0), np.zeros(0))
    if len(xs) < 100:
        return 0.0
    wts = ink[ys, xs]
    best, best_score = 0.0, -np.inf
    for deg in np.arange(-max_deg, max_deg + step / 2, step):
        th = np.deg2rad(deg)
        u = xs * np.cos(th) + ys * np.sin(th)  # position across vertical lines tilted by deg
        hist = np.bincount(np.round(u - u.min()).astype(np.int64), weights=wts)
        score = float(np.sum(hist ** 2))
        if score > best_score:
            best, best_score = float(deg), score
    return best


def _local_spacing(profile: np.ndarray, ppm: float) -> float:
    """The 1 mm spacing (pixels) of a stretch of grid-ink profile, searched within 8 % of ``ppm`` on the
    5 mm lines and every multiple of them that fits."""
    ac = _autocorr(profile)
    n = len(ac)
    major = 5 * ppm
    kk = np.arange(1, max(int(0.6 * n / major), 2))[None, :]
    cand = major * (1 + np.linspace(-0.08, 0.08, 321))
    score = np.interp(cand[:, None] * kk, np.arange(n), ac).mean(axis=1)
    return float(cand[int(np.argmax(score))] / 5)


def _x_to_mm(ink_band: np.ndarray, x0: int, x1: int, ppm: float, pieces: int = 4):
    """Millimetres from ``x0`` along a row, following a linear change of the grid spacing across it (a
    photographed page's perspective): the spacing is measured in ``pieces`` stretches and a line fitted;
    the global ``ppm`` is kept when the stretches disagree with a line or the change is negligible."""
    prof = ink_band.mean(axis=0)
    prof = prof - np.convolve(prof, np.ones(31) / 31, mode="same")
    edges = np.linspace(x0, x1, pieces + 1).astype(int)
    xs, sp = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        if b - a > 20 * ppm:
            xs.append((a + b) / 2)
            sp.append(_local_spacing(prof[a:b], ppm))
    if len(xs) >= 3:
        slope, icpt = np.polyfit(xs, sp, 1)
        resid = np.asarray(sp) - (slope * np.asarray(xs) + icpt)
        change = abs(slope) * (x1 - x0) / ppm
        if np.abs(resid).max() < 0.01 * ppm and 0.005 < change < 0.15:
            def mm(x):
                x = np.asarray(x, np.float64)
                return np.log((icpt + slope * x) / (icpt + slope * x0)) / slope
            return mm
    return lambda x: (np.asarray(x, np.float64) - x0) / ppm


def _row_baselines(mask: np.ndarray, ppm: float) -> np.ndarray:
    prof = mask.sum(axis=1).astype(np.float64)
    prof = np.convolve(prof, np.ones(3) / 3, mode="same")
    peaks, _ = find_peaks(prof, distance=max(int(15 * ppm), 1), height=0.15 * mask.shape[1] * 0.2,
                          prominence=0.1 * prof.max())
    return peaks


def _calibration_end(mask: np.ndarray, band: tuple[int, int], ppm: float, ppm_y: float) -> tuple[int, float] | None:
    """The column just after the 1 mV calibration pulse at a row's left (two vertical strokes 10 mm tall,
    5 mm apart, before any other tall stroke) and the strokes' height in pixels (1 mV), or None."""
    sub = mask[band[0]:band[1]]
    cols = np.flatnonzero(sub.any(axis=0))
    if len(cols) == 0:
        return None
    lo = int(cols[0])
    hi = min(sub.shape[1], lo + int(40 * ppm))
    # the longest vertical run of trace pixels in each column near the row's start (three columns
    # together and small gaps closed: a blurred or slightly slanted stroke still counts)
    wide = ndimage.binary_closing(ndimage.maximum_filter1d(sub[:, max(lo - 1, 0):hi + 1], 3, axis=1),
                                  structure=np.ones((5, 1), bool))
    off = lo - max(lo - 1, 0)
    runs = np.zeros(hi - lo)
    for k in range(hi - lo):
        lab, n = ndimage.label(wide[:, k + off])
        if n:
            runs[k] = np.bincount(lab.ravel())[1:].max()
    tall = runs >= 0.6 * MM_PER_MV * ppm_y
    edges = []
    k = 0
    while k < len(tall):
        if tall[k]:
            start = k
            while k < len(tall) and tall[k]:
                k += 1
            edges.append((lo + start, lo + k - 1))
        k += 1
    if len(edges) >= 2:
        gap = (edges[1][0] - edges[0][1]) / ppm
        if 3.5 <= gap <= 6.5:  # the pulse's top is 5 mm wide (0.2 s)
            height = float(np.median([runs[a - lo:b - lo + 1].max() for a, b in edges[:2]])) - 1.0
            return int(round((edges[1][0] + edges[1][1]) / 2 + ppm)), height  # it ends 1 mm after the falling stroke
    return None


def _follow(mask: np.ndarray, band: tuple[int, int], x0: int, x1: int, y_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Trace of one row: x (half-pixel steps) and y, following the nearest run of trace pixels."""
    xs, ys = [], []
    prev = y_start
    sub = mask[band[0]:band[1]]
    for x in range(x0, x1):
        col = np.flatnonzero(sub[:, x])
        if len(col) == 0:
            continue
        breaks = np.flatnonzero(np.diff(col) > 1)
        starts = np.concatenate([[col[0]], col[breaks + 1]]) + band[0]
        ends = np.concatenate([col[breaks], [col[-1]]]) + band[0]
        d = np.where(prev < starts, starts - prev, np.where(prev > ends, prev - ends, 0))
        k = int(np.argmin(d))
        a, b = float(starts[k]), float(ends[k])
        if b - a <= 2:
            xs += [x, x + 0.5]
            ys += [(a + b) / 2] * 2
            prev = (a + b) / 2
        else:  # a stroke: from the end nearer the previous point to the far end
            near, far = (a, b) if abs(a - prev) <= abs(b - prev) else (b, a)
            xs += [x, x + 0.5]
            ys += [near, far]
            prev = far
    return np.asarray(xs, np.float64), np.asarray(ys, np.float64)


def digitize(image: np.ndarray, px_per_mm: float | None = None, fs: float = 500.0) -> Digitized:
    """Read the ECG printed in ``image`` (``(H, W, 3)`` uint8, a scan, photo or render).

    ``px_per_mm`` skips the grid search (a known scan resolution: dpi / 25.4, both axes). Raises ECGError
    when the image holds no readable ECG (no trace rows, no scale)."""
    img = np.asarray(image)
    if img.ndim not in (2, 3) or min(img.shape[:2]) < 64:
        raise ECGError(f"the image is too small to read an ECG from ({img.shape[1]} x {img.shape[0]} pixels)")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3].astype(np.uint8)
    mask = trace_mask(img)
    dark = mask.mean()
    if dark > 0.10:
        raise ECGError(f"the image does not look like an ECG printout: {100 * dark:.0f} % of it is dark ink "
                       "(a printed ECG has a few per cent)")
    angle = skew_angle(img)
    if abs(angle) < 0.25:
        angle = 0.0  # straight enough: resampling would blur more than the tilt costs
    else:  # a photo or a crooked scan: turn the page straight first
        paper = tuple(int(v) for v in np.percentile(img.reshape(-1, 3), 90, axis=0))
        img = np.asarray(Image.fromarray(img).rotate(angle, resample=Image.BILINEAR, fillcolor=paper))
        mask = trace_mask(img)
    ink = _grid_ink(img, mask)
    scale_from = "given"
    ppm = ppm_y = px_per_mm
    if px_per_mm is None:
        ppm, ppm_y, _ = grid_scale(img, ink)
        scale_from = "grid"
        if not np.isfinite(ppm):
            ppm = ppm_y = _scale_from_pulse(mask)
            scale_from = "calibration pulse"
            if ppm is None:
                raise ECGError("no ECG grid and no calibration pulse found: the scale (mm per pixel) is unknown; "
                               "give the scan resolution")
    ppm, ppm_y = float(ppm), float(ppm_y)
    bases = _row_baselines(mask, ppm_y)
    if len(bases) == 0:
        raise ECGError("no ECG trace found in the image")
    h, w = mask.shape
    edges = np.concatenate([[max(0, bases[0] - int(15 * ppm_y))], (bases[:-1] + bases[1:]) // 2,
                            [min(h, bases[-1] + int(15 * ppm_y))]])
    layout = "3x4" if len(bases) == 4 else "strips"
    panels: list[DigitizedPanel] = []
    for r, base in enumerate(bases):
        band = (int(edges[r]), int(edges[r + 1]))
        cal = _calibration_end(mask, band, ppm, ppm_y)
        cols = np.flatnonzero(mask[band[0]:band[1]].any(axis=0))
        if len(cols) == 0:
            continue
        x0 = cal[0] if cal is not None else int(cols[0])
        x1 = int(cols[-1]) + 1
        row_ppm, row_ppm_y = ppm, ppm_y
        if cal is not None and abs(cal[1] / (MM_PER_MV * ppm_y) - 1) < 0.15:
            row_ppm_y = cal[1] / MM_PER_MV  # the row's own 1 mV pulse sets its voltage scale
        if x1 - x0 < 20 * ppm * 0.2:  # under 0.2 s of trace
            continue
        xs, ys = _follow(mask, band, x0, x1, float(base))
        if len(xs) < 10:
            continue
        mm = _x_to_mm(ink[band[0]:band[1]], x0, x1, row_ppm)
        t = mm(xs) / MM_PER_S
        v = (base - ys) / row_ppm_y / MM_PER_MV
        dur = float(mm(x1)) / MM_PER_S
        if layout == "3x4" and r < 3:
            col = dur / 4
            for c, lead in enumerate(STANDARD_3X4[r]):
                sel = (t >= c * col) & (t < (c + 1) * col)
                gx = np.arange(x0, x1 + 1)
                bx0, bx1 = (int(np.interp(e * MM_PER_S, mm(gx), gx)) for e in (c * col, (c + 1) * col))
                panels.append(_panel(lead, r, c * col, (c + 1) * col, t[sel], v[sel], fs, (bx0, band[0], bx1, band[1]),
                                     base, row_ppm_y * MM_PER_MV))
        else:
            lead = "II" if layout == "3x4" else f"lead {r + 1}"
            panels.append(_panel(lead, r, 0.0, dur, t, v, fs, (x0, band[0], x1, band[1]), base, row_ppm_y * MM_PER_MV))
    if not panels:
        raise ECGError("no ECG trace found in the image")
    return Digitized(panels, ppm, ppm_y, layout, scale_from, angle)


def unrotate_points(points: np.ndarray, angle_deg: float, w: int, h: int) -> np.ndarray:
    """Pixels ``(n, 2)`` of a ``w`` x ``h`` image turned by PIL's ``rotate(angle_deg)`` (about its centre, as
    :func:`digitize` straightens a tilted page) back to the original image's pixels."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    d = np.asarray(points, np.float64) - np.array([w / 2, h / 2])
    return np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], axis=1) + np.array([w / 2, h / 2])


def _panel(lead, row, t0, t1, t, v, fs, box, base, px_per_mv) -> DigitizedPanel:
    n = max(int(round((t1 - t0) * fs)), 1)
    grid = t0 + np.arange(n) / fs
    if len(t) >= 2:
        order = np.argsort(t, kind="stable")
        sig = np.interp(grid, t[order], v[order])
    else:
        sig = np.zeros(n)
    mid = float(np.median(sig))
    return DigitizedPanel(lead, row, float(t0), float(t1), (sig - mid).astype(np.float32), fs, box,
                          float(base) - mid * float(px_per_mv), float(px_per_mv))


def _scale_from_pulse(mask: np.ndarray) -> float | None:
    """Pixels per mm from the tallest flat-topped pulse at the image's left (10 mm = 1 mV), if any."""
    left = mask[:, : mask.shape[1] // 8]
    cols = left.sum(axis=0)
    if cols.max() < 10:
        return None
    x = int(np.argmax(cols))
    rows = np.flatnonzero(left[:, x])
    height = rows[-1] - rows[0]
    return height / MM_PER_MV if height > 20 else None


def snr_db(true: np.ndarray, recovered: np.ndarray, max_lag: int = 0) -> float:
    """10 log10 of the true signal's power over the error's, both median-centred; with ``max_lag`` the
    best alignment within that many samples is used (a printed trace has no absolute time origin)."""
    t = np.asarray(true, np.float64)
    r = np.asarray(recovered, np.float64)
    n = min(len(t), len(r))
    t, r = t[:n] - np.median(t[:n]), r[:n] - np.median(r[:n])
    best = -np.inf
    for lag in range(-max_lag, max_lag + 1):
        a = t[max(lag, 0):n + min(lag, 0)]
        b = r[max(-lag, 0):n - max(lag, 0)]
        err = np.sum((a - b) ** 2)
        best = max(best, 10 * np.log10(np.sum(a ** 2) / max(err, 1e-12)))
    return float(best)
