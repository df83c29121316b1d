"""Reading ECG images: valid files, and named refusals for everything else."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ecg_core.errors import FileTooLargeError, RecordFormatError
from ecg_core.io.image_io import read_image


def _png(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def test_png_jpeg_and_grey_images_become_rgb_arrays():
    arr = np.full((120, 300, 3), 240, np.uint8)
    arr[60, :] = 0
    assert np.array_equal(read_image(_png(arr), "a.png"), arr)
    jpg = read_image(_png(arr, "JPEG"), "a.jpg")
    assert jpg.shape == (120, 300, 3) and jpg[60].mean() < 60
    grey = read_image(_png(arr[..., 0]), "g.png")
    assert grey.shape == (120, 300, 3)


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that declares ``w`` x ``h`` pixels (a decompression bomb needs no pixel data to be refused)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_bad_images_are_refused_with_the_reason():
    with pytest.raises(RecordFormatError, match="notes.txt: not an image"):
        read_image(b"P wave, QRS, T wave", "notes.txt")
    with pytest.raises(FileTooLargeError, match="bomb.png: the image declares more pixels than the 40 MP"):
        read_image(_png_header_only(60000, 60000), "bomb.png")
    with pytest.raises(FileTooLargeError, match=r"big.png: 8000 x 6000 pixels \(48 MP\)"):
        read_image(_png_header_only(8000, 6000), "big.png")
    with pytest.raises(RecordFormatError, match="too small"):
        read_image(_png(np.zeros((20, 20, 3), np.uint8)), "tiny.png")
    with pytest.raises(RecordFormatError, match="damaged or truncated"):
        noisy = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
        data = _png(noisy)
        read_image(data[:len(data) // 2], "cut.png")


def test_pdf_first_page_encrypted_and_empty_pdfs(tmp_path):
    import io

    import numpy as np
    import pytest
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    from ecg_core.errors import RecordFormatError
    from ecg_core.io.image_io import read_image

    page = Image.fromarray(np.full((300, 500, 3), 230, np.uint8))
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=100.0)  # 5 x 3 inches
    arr = read_image(buf.getvalue(), "scan.pdf")
    assert arr.shape == (600, 1000, 3)  # drawn at 200 dpi
    w = PdfWriter()
    for p in PdfReader(io.BytesIO(buf.getvalue())).pages:
        w.add_page(p)
    w.encrypt("secret")
    enc = io.BytesIO()
    w.write(enc)
    with pytest.raises(RecordFormatError, match="scan.pdf: not a PDF that can be read .it is encrypted"):
        read_image(enc.getvalue(), "scan.pdf")
    empty = io.BytesIO()
    PdfWriter().write(empty)
    with pytest.raises(RecordFormatError, match="no pages"):
        read_image(empty.getvalue(), "empty.pdf")


def test_pdf_page_too_large_for_200_dpi_is_drawn_within_the_pixel_limit(monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    from ecg_core.io.image_io import read_image

    monkeypatch.setenv("ECG_MAX_IMAGE_MP", "1")
    buf = io.BytesIO()
    Image.fromarray(np.full((400, 800, 3), 200, np.uint8)).save(buf, "PDF", resolution=50.0)  # 16 x 8 inches
    arr = read_image(buf.getvalue(), "big.pdf")
    assert arr.shape[0] * arr.shape[1] <= 1_000_000 and arr.shape[1] > 1000  # about 88 dpi, not 200
