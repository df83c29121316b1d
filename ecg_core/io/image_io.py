"""ECG images (photos, scans, PDFs) read into RGB arrays, with limits.

Pillow decodes images and PDFium (pypdfium2) renders a PDF's first page; the checks here turn their
failures into project errors that name the file and the problem: not an image, an image format Pillow
cannot read, a damaged or encrypted PDF, a decompression bomb (more pixels than ``ECG_MAX_IMAGE_MP``
megapixels, default 40; a PDF page is rendered at 200 dpi or less to stay under it), an image too small
to hold an ECG.
"""

from __future__ import annotations

import io
import os
import re
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import FileTooLargeError, RecordFormatError
from ._checks import check_size

__all__ = ["IMAGE_EXTENSIONS", "read_image", "max_image_pixels"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pdf")
_MIN_SIDE = 64
_PDF_DPI = 200.0


def max_image_pixels() -> int:
    return int(float(os.environ.get("ECG_MAX_IMAGE_MP", "40")) * 1e6)


def read_image(data: bytes, name: str = "image") -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of an image file's bytes (EXIF rotation applied)."""
    check_size(len(data), name)
    if data[:1024].lstrip().startswith(b"%PDF") or name.lower().endswith(".pdf"):
        return _read_pdf(data, name)
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > limit:
                raise FileTooLargeError(f"{name}: {w} x {h} pixels ({w * h / 1e6:.0f} MP) is more than the "
                                        f"{limit / 1e6:.0f} MP an ECG image may have (ECG_MAX_IMAGE_MP)")
            img = ImageOps.exif_transpose(img).convert("RGB")
    except FileTooLargeError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise RecordFormatError(f"{name}: not an image that can be read (PNG, JPEG, BMP, TIFF, WebP)") from exc
        raise FileTooLargeError(f"{name}: the image declares more pixels than the {limit / 1e6:.0f} MP an ECG image "
                                "may have (ECG_MAX_IMAGE_MP); it may be a decompression bomb") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise RecordFormatError(f"{name}: the image file is damaged or truncated ({exc})") from exc
    return _big_enough(np.asarray(img), name)


def _big_enough(arr: np.ndarray, name: str) -> np.ndarray:
    if min(arr.shape[:2]) < _MIN_SIDE:
        raise RecordFormatError(f"{name}: {arr.shape[1]} x {arr.shape[0]} pixels is too small to hold an ECG")
    return arr


def _read_pdf(data: bytes, name: str) -> np.ndarray:
    """The first page of a PDF rendered to RGB at up to 200 dpi, fewer dots when the page is so large
    that 200 dpi would pass the pixel limit."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium's error code can be stale (left by an earlier document): name the cause from the file itself
        if b"/Encrypt" in data:
            detail = "it is encrypted: save an unprotected copy"
        elif re.search(rb"/Count\s+0\b", data):
            detail = "it has no pages"
        else:
            detail = str(exc)
        raise RecordFormatError(f"{name}: not a PDF that can be read ({detail})") from None
    try:
        if len(pdf) == 0:
            raise RecordFormatError(f"{name}: the PDF has no pages")
        try:
            page = pdf[0]
        except pdfium.PdfiumError as exc:
            raise RecordFormatError(f"{name}: the PDF's first page is damaged ({exc})") from None
        w_pt, h_pt = page.get_size()
        if not (np.isfinite(w_pt) and np.isfinite(h_pt)) or w_pt <= 0 or h_pt <= 0:
            raise RecordFormatError(f"{name}: the PDF's first page has no size ({w_pt} x {h_pt} points)")
        # points are 1/72 inch: pick the dpi whose pixel count fits the limit, never above 200
        dpi = min(_PDF_DPI, 0.99 * 72.0 * float(np.sqrt(max_image_pixels() / (w_pt * h_pt))))  # 1 %: rounding
        try:
            img = page.render(scale=dpi / 72.0).to_pil().convert("RGB")
        except (pdfium.PdfiumError, ValueError, OSError, MemoryError) as exc:
            raise RecordFormatError(f"{name}: the PDF's first page could not be drawn ({exc})") from None
        return _big_enough(np.asarray(img), name)
    finally:
        pdf.close()
