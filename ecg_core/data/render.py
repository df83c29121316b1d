"""Render a Record as an image of ECG paper, and know where every sample landed.

Standard paper: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major grid, a 1 mV x 0.2 s calibration pulse at
the start of each row, lead labels. Layouts: ``"3x4"`` (12 leads in three rows of four 2.5 s columns
plus a lead II rhythm strip, the printed 12-lead format) and ``"strips"`` (one row per lead). The result
carries the pixel position of every drawn sample, each lead panel's box and the grid scale (pixels per
mm), so annotations (R peaks, P/QRS/T marks) become image keypoints. Drawn with Pillow: no plotting
library in the loop, a 12-lead page at 100 dpi takes a few milliseconds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..record import Record

__all__ = ["Panel", "Rendered", "RenderStyle", "render_record", "panel_layout", "photo_augment", "shrink_page",
           "STANDARD_3X4"]

STANDARD_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
MM_PER_S = 25.0
MM_PER_MV = 10.0


@dataclass(frozen=True)
class RenderStyle:
    """Looks of the page. Colours are RGB tuples."""

    dpi: float = 100.0
    paper: tuple[int, int, int] = (255, 246, 246)
    minor: tuple[int, int, int] = (246, 200, 200)
    major: tuple[int, int, int] = (229, 138, 138)
    trace: tuple[int, int, int] = (17, 17, 17)
    grid: bool = True
    calibration: bool = True
    labels: bool = True
    row_mm: float = 30.0  # between row baselines
    margin_mm: float = 6.0
    cal_mm: float = 8.0  # room before each row for the calibration pulse
    line_px: int = 1


@dataclass(frozen=True)
class Panel:
    """One drawn piece of one lead: its box in pixels ``(x0, y0, x1, y1)``, the lead, the time span
    (seconds) and the baseline's y."""

    lead: str
    lead_index: int
    box: tuple[float, float, float, float]
    t0: float
    t1: float
    baseline_y: float


@dataclass(frozen=True)
class Rendered:
    """The page (``image`` ``(H, W, 3)`` uint8) and its geometry."""

    image: np.ndarray
    px_per_mm: float
    panels: tuple[Panel, ...]
    fs: float
    lead_names: tuple[str, ...]
    offsets_mv: tuple[float, ...] = field(default=())  # what was subtracted from each panel (its median)

    def sample_xy(self, lead: str | int, sample_idx: np.ndarray, signal: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Pixel ``(x, y)`` of samples ``sample_idx`` of ``lead`` in every panel that shows them:
        ``[(panel index, (n, 2) array)]``. ``signal`` is the lead's drawn values (mV)."""
        li = self.lead_names.index(lead) if isinstance(lead, str) else int(lead)
        idx = np.asarray(sample_idx, dtype=np.int64)
        out = []
        for k, p in enumerate(self.panels):
            if p.lead_index != li:
                continue
            t = idx / self.fs
            sel = (t >= p.t0) & (t < p.t1)
            if not sel.any():
                continue
            x = p.box[0] + (t[sel] - p.t0) * MM_PER_S * self.px_per_mm
            y = p.baseline_y - (signal[idx[sel]] - self.offsets_mv[k]) * MM_PER_MV * self.px_per_mm
            out.append((k, np.stack([x, y], axis=1)))
        return out


def panel_layout(record: Record, start_s: float, duration_s: float,
                 layout: str | None = None) -> list[tuple[str, int, float, float, int]]:
    """Panels of a printed ECG: ``(label, lead index, t0, t1, row)`` each. ``"3x4"``: the 12 standard
    leads in three rows of four ``duration_s / 4`` columns plus a lead II rhythm strip; ``"strips"``: a
    row per lead; None: ``"3x4"`` when the record has the 12 standard leads, else ``"strips"``. Shared by
    this renderer and the Plotly paper view, so both put every lead in the same place."""
    names = record.lead_names
    if layout is None:
        layout = "3x4" if all(n in names for row in STANDARD_3X4 for n in row) else "strips"
    if layout == "3x4":
        missing = [n for row in STANDARD_3X4 for n in row if n not in names]
        if missing:
            raise ValueError(f"the 3x4 layout needs the 12 standard leads; missing: {', '.join(missing)}")
        col = duration_s / 4
        panels = [(lead, names.index(lead), start_s + c * col, start_s + (c + 1) * col, r)
                  for r, row in enumerate(STANDARD_3X4) for c, lead in enumerate(row)]
        panels.append(("II", names.index("II"), start_s, start_s + duration_s, 3))
        return panels
    if layout == "strips":
        return [(n, i, start_s, start_s + duration_s, i) for i, n in enumerate(names)]
    raise ValueError(f"unknown layout {layout!r}; valid: 3x4, strips")


def render_record(record: Record, *, layout: str | None = None, start_s: float = 0.0, duration_s: float = 10.0,
                  style: RenderStyle | None = None, signal: np.ndarray | None = None) -> Rendered:
    """Draw ``duration_s`` seconds of ``record`` from ``start_s`` on ECG paper.

    ``layout``: ``"3x4"`` when the record has the 12 standard leads, else ``"strips"`` (default: the
    first that fits). ``signal`` draws other values (e.g. filtered) with the record's geometry. Each
    panel is centred on its median, as printed ECGs are.
    """
    style = style or RenderStyle()
    sig = record.signal if signal is None else np.asarray(signal, dtype=np.float32)
    start_s = float(max(0.0, min(start_s, record.duration_s)))
    duration_s = float(min(duration_s, record.duration_s - start_s))
    if duration_s <= 0:
        raise ValueError("nothing to draw: the window starts after the record ends")
    panels = panel_layout(record, start_s, duration_s, layout)
    n_rows = max(p[4] for p in panels) + 1
    ppm = style.dpi / 25.4
    width_mm = 2 * style.margin_mm + style.cal_mm + duration_s * MM_PER_S
    height_mm = 2 * style.margin_mm + n_rows * style.row_mm
    w, h = int(round(width_mm * ppm)), int(round(height_mm * ppm))
    img = Image.new("RGB", (w, h), style.paper)
    draw = ImageDraw.Draw(img)
    if style.grid:
        for mm in np.arange(0, max(width_mm, height_mm) + 1, 1.0):
            colour = style.major if int(round(mm)) % 5 == 0 else style.minor
            x, y = mm * ppm, mm * ppm
            if mm <= width_mm:
                draw.line([(x, 0), (x, h)], fill=colour, width=1)
            if mm <= height_mm:
                draw.line([(0, y), (w, y)], fill=colour, width=1)
    x_start = (style.margin_mm + style.cal_mm) * ppm
    out_panels, offsets = [], []
    fs = record.fs
    for label, lead, t0, t1, row in panels:
        base_y = (style.margin_mm + (row + 0.6) * style.row_mm) * ppm
        x0 = x_start + (t0 - start_s) * MM_PER_S * ppm
        x1 = x_start + (t1 - start_s) * MM_PER_S * ppm
        a, b = int(round(t0 * fs)), min(int(round(t1 * fs)), sig.shape[1])
        seg = sig[lead, a:b].astype(np.float64)
        off = float(np.median(seg)) if len(seg) else 0.0
        if len(seg) > 1:
            xs = x0 + (np.arange(a, b) / fs - t0) * MM_PER_S * ppm
            ys = base_y - (seg - off) * MM_PER_MV * ppm
            draw.line(list(zip(xs.tolist(), ys.tolist())), fill=style.trace, width=style.line_px)
        half = 0.5 * style.row_mm * ppm
        out_panels.append(Panel(label, lead, (x0, base_y - half, x1, base_y + half), t0, t1, base_y))
        offsets.append(off)
        if style.labels:
            draw.text((x0 + 1.5 * ppm, base_y - 0.45 * style.row_mm * ppm), label, fill=style.trace)
    if style.calibration:
        for row in range(n_rows):
            base_y = (style.margin_mm + (row + 0.6) * style.row_mm) * ppm
            cx = (style.margin_mm + 1.0) * ppm
            top = base_y - MM_PER_MV * ppm
            pts = [(cx, base_y), (cx + ppm, base_y), (cx + ppm, top), (cx + 6 * ppm, top), (cx + 6 * ppm, base_y),
                   (cx + 7 * ppm, base_y)]
            draw.line(pts, fill=style.trace, width=style.line_px)
    return Rendered(np.asarray(img), ppm, tuple(out_panels), fs, record.lead_names, tuple(offsets))


def shrink_page(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A page image at the model's ``size`` (H, W). A page printed finer than the training pages (shrunk
    by more than 1.3x, i.e. over about 130 dpi) first gets its lines thickened by a 3-pixel minimum filter,
    so they survive the shrinking as they do on the 80-160 dpi training pages of the image models (chosen
    on inner-validation renders: at 200 and 300 dpi the panel Mask R-CNN found the lead layout on none of
    eight pages without it, on all with it; the keypoint detector's T F1 at 200 dpi 0.63 -> 0.70)."""
    img = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    if image.shape[1] / size[1] > 1.3:
        img = img.filter(ImageFilter.MinFilter(3))
    return np.asarray(img.resize(size[::-1], Image.BILINEAR))


def _homography(points: np.ndarray, h: np.ndarray) -> np.ndarray:
    p = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ h.T
    return p[:, :2] / p[:, 2:3]


def photo_augment(image: np.ndarray, points: np.ndarray | None = None, rng: np.random.Generator | None = None,
                  strength: float = 1.0) -> tuple[np.ndarray, np.ndarray | None]:
    """A photo or scan of a printed page: rotation, perspective, scale, cropped margins (one homography,
    applied to ``points`` too: ``(n, 2)`` pixel ``(x, y)``, NaN kept), then shading and colour, creases,
    blur, sensor noise and JPEG compression. ``strength`` scales every effect (0: the image unchanged).
    Returns the new image (same size) and the moved points."""
    rng = rng or np.random.default_rng()
    h, w = image.shape[:2]
    s = float(strength)
    if s <= 0:
        return image, points
    # geometry: output pixel -> page pixel, composed as centre, scale, rotate, perspective, shift
    scale = 1.0 + s * rng.uniform(-0.12, 0.04)
    theta = np.deg2rad(s * rng.uniform(-3.0, 3.0))
    c, sn = np.cos(theta), np.sin(theta)
    centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]], dtype=np.float64)
    rot = np.array([[scale * c, -scale * sn, 0], [scale * sn, scale * c, 0], [0, 0, 1]])
    persp = np.array([[1, 0, 0], [0, 1, 0], [s * rng.uniform(-4e-5, 4e-5), s * rng.uniform(-8e-5, 8e-5), 1]])
    shift = np.array([[1, 0, w / 2 + s * rng.uniform(-0.03, 0.03) * w],
                      [0, 1, h / 2 + s * rng.uniform(-0.03, 0.03) * h], [0, 0, 1]])
    fwd = shift @ persp @ rot @ centre  # page -> photo
    inv = np.linalg.inv(fwd)
    inv = inv / inv[2, 2]
    paper = tuple(int(v) for v in np.median(image.reshape(-1, 3), axis=0))
    img = Image.fromarray(image).transform((w, h), Image.PERSPECTIVE, tuple(inv.ravel()[:8]), Image.BILINEAR,
                                           fillcolor=tuple(int(0.6 * v) for v in paper))
    pts = None if points is None else _homography(np.asarray(points, dtype=np.float64), fwd)
    # light: a smooth gradient of brightness (a lamp to one side), colour cast, contrast
    a = np.asarray(img, dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(ang) * (xx / w - 0.5) + np.sin(ang) * (yy / h - 0.5))
    shade = 1.0 - s * rng.uniform(0.0, 0.35) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    cast = 1.0 + s * rng.uniform(-0.08, 0.08, size=3)
    contrast = 1.0 + s * rng.uniform(-0.25, 0.1)
    a = (a - 128.0) * contrast + 128.0
    a = a * shade[..., None] * cast[None, None, :]
    # creases: a thin darker line with a lighter edge, across the page
    for _ in range(rng.integers(0, 3) if s > 0.3 else 0):
        x0, x1 = rng.uniform(0, w, size=2)
        d = (xx - x0 - (x1 - x0) * yy / h) / np.sqrt(1 + ((x1 - x0) / h) ** 2)
        fold = 1.0 - 0.12 * s * np.exp(-0.5 * (d / 1.5) ** 2) + 0.05 * s * np.exp(-0.5 * ((d - 3) / 2.0) ** 2)
        a *= fold[..., None]
    a = np.clip(a, 0, 255).astype(np.uint8)
    img = Image.fromarray(a)
    if rng.uniform() < 0.7:
        img = img.filter(ImageFilter.GaussianBlur(radius=s * rng.uniform(0.2, 1.2)))
    a = np.asarray(img, dtype=np.float32)
    a = np.clip(a + rng.normal(0, s * rng.uniform(0, 8), size=a.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=int(round(95 - s * rng.uniform(0, 60))))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out, pts
