"""ECG images (photos, scans, PDFs rendered elsewhere) read into RGB arrays, with limits.

Pillow decodes; the checks here turn its failures into project errors that name the file and the
problem: not an image, an image format Pillow cannot read, a decompression bomb (more pixels than
``ECG_MAX_IMAGE_MP`` megapixels, default 40), an image too small to hold an ECG.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np

from ..errors import FileTooLargeError, RecordFormatError
from ._checks import check_size

__all__ = ["IMAGE_EXTENSIONS", "read_image", "max_image_pixels"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_MIN_SIDE = 64


def max_image_pixels() -> int:
    return int(float(os.environ.get("ECG_MAX_IMAGE_MP", "40")) * 1e6)


def read_image(data: bytes, name: str = "image") -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of an image file's bytes (EXIF rotation applied)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_size(len(data), name)
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
    arr = np.asarray(img)
    if min(arr.shape[:2]) < _MIN_SIDE:
        raise RecordFormatError(f"{name}: {arr.shape[1]} x {arr.shape[0]} pixels is too small to hold an ECG")
    return arr
