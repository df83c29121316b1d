"""Fuzzing of every reader: seed files of each format, mutations, and the one allowed contract.

A reader given any bytes must end in one of two ways: a valid :class:`~ecg_core.record.Record` (or, for
images, an RGB array) or an :class:`~ecg_core.errors.ECGError` whose message names the file. Anything
else (an IndexError from deep inside a parser, a hang, a Record holding NaN) is a defect.

The seeds are written from a real record (a few seconds of MIT-BIH when given, else the demo record)
in each supported format; mutations are byte-level (flips, truncation, insertion, deletion, duplication,
"interesting" byte values) and format-aware (numbers in text headers and CSV cells replaced by zero,
negative, huge, NaN or non-numbers; lines dropped or repeated; archive members mutated; image headers
declaring enormous sizes). ``tests/io/test_fuzz.py`` runs a CI-sized share through hypothesis;
``bench/fuzz.py`` runs thousands per format and writes the counts.

Written here rather than taken from atheris: coverage guidance needs an instrumented interpreter
build and native parsers (wfdb's, Pillow's, PDFium's) are opaque to it, while these mutations start
from valid files, which is what reaches the deep checks.
"""

from __future__ import annotations

import io
import re
import struct
import tempfile
import time
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..data import demo_record
from ..data.render import RenderStyle, render_record
from ..errors import ECGError
from ..io.image_io import read_image
from ..io.load import Upload, load_record
from ..io.wfdb_io import wfdb_zip_bytes, write_wfdb
from ..record import Record

__all__ = ["FORMATS", "FuzzDefect", "FuzzReport", "seed_inputs", "mutate", "read_outcome", "fuzz"]

FORMATS = ("wfdb", "csv", "edf", "numpy", "zip", "image", "pdf")
Files = list[tuple[str, bytes]]

_INTERESTING_NUMBERS = (b"0", b"-1", b"1e308", b"-1e308", b"nan", b"inf", b"99999999999", b"", b"x", b"0.000001",
                        b"4294967296", b"-0", b"1e-320")
_INTERESTING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x20)
_NUMBER = re.compile(rb"-?\d+(\.\d+)?(e-?\d+)?")


class FuzzDefect(AssertionError):
    """A reader ended in a way the contract does not allow (the message says how, the input is kept)."""

    def __init__(self, message: str, files: Files):
        super().__init__(message)
        self.files = files


def _record_bytes(record: Record) -> dict[str, Files]:
    out: dict[str, Files] = {}
    with tempfile.TemporaryDirectory(prefix="ecg_fuzz_seed_") as tmp:
        sets = []
        for fmt in ("16", "212"):
            folder = Path(tmp) / fmt
            write_wfdb(record.replace(name="rec"), folder, fmt=fmt)
            sets.append(sorted((p.name, p.read_bytes()) for p in folder.iterdir()))
        out["wfdb"] = sets
    t = np.arange(record.n_samples) / record.fs
    head = ",".join(["time", *record.lead_names])
    rows = "\n".join(",".join([f"{a:.4f}", *(f"{v:.4f}" for v in col)]) for a, col in zip(t, record.signal.T))
    no_time = "\n".join(",".join(f"{v:.4f}" for v in col) for col in record.signal.T)
    out["csv"] = [[("rec.csv", f"{head}\n{rows}\n".encode())],
                  [("rec.csv", (",".join(record.lead_names) + "\n" + no_time + "\n").encode())]]
    out["edf"] = [[("rec.edf", _edf_bytes(record))]]
    npy, npz = io.BytesIO(), io.BytesIO()
    np.save(npy, record.signal.astype(np.float32))
    np.savez(npz, signal=record.signal.astype(np.float32), fs=np.float64(record.fs))
    out["numpy"] = [[("rec.npy", npy.getvalue())], [("rec.npz", npz.getvalue())]]
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rec.csv", out["csv"][0][0][1])
    out["zip"] = [[("rec.zip", wfdb_zip_bytes(record.replace(name="rec")))], [("rec.zip", zbuf.getvalue())]]
    png, jpg, pdf = _image_bytes(record)
    out["image"] = [[("rec.png", png)], [("rec.jpg", jpg)]]
    out["pdf"] = [[("rec.pdf", pdf)]]
    return out


def _edf_bytes(record: Record) -> bytes:
    import edfio

    sigs = [edfio.EdfSignal(np.asarray(x, np.float64), record.fs, label=name[:16], physical_dimension="mV",
                            physical_range=(-10.0, 10.0)) for name, x in zip(record.lead_names, record.signal)]
    with tempfile.TemporaryDirectory(prefix="ecg_fuzz_edf_") as tmp:
        path = Path(tmp) / "rec.edf"
        edfio.Edf(sigs).write(path)
        return path.read_bytes()


def _image_bytes(record: Record) -> tuple[bytes, bytes, bytes]:
    img = Image.fromarray(render_record(record, style=RenderStyle(dpi=60)).image)
    out = []
    for fmt in ("PNG", "JPEG", "PDF"):
        buf = io.BytesIO()
        img.save(buf, fmt, **({"resolution": 60.0} if fmt == "PDF" else {}))
        out.append(buf.getvalue())
    return out[0], out[1], out[2]


def seed_inputs(record: Record | None = None) -> dict[str, list[Files]]:
    """Valid files of every format (each a list of ``(name, bytes)``: a WFDB record is several files),
    written from ``record`` (default: 6 s of the demo record, 3 leads)."""
    if record is None:
        rec = demo_record(duration_s=6.0, fs=250.0, seed=3)
        record = rec.replace(signal=rec.signal[[1, 6, 10]], lead_names=tuple(rec.lead_names[i] for i in (1, 6, 10)),
                             annotations={})
    return _record_bytes(record)


# ---------------------------------------------------------------- mutations

def _byte_mutation(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    n = len(b)
    op = rng.integers(7)
    if n == 0:
        return bytes(rng.integers(0, 256, rng.integers(1, 64), dtype=np.uint8))
    if op == 0:  # flip bits
        for i in rng.integers(0, n, rng.integers(1, 9)):
            b[i] ^= 1 << int(rng.integers(8))
    elif op == 1:  # truncate
        del b[int(rng.integers(0, n)):]
    elif op == 2:  # insert random bytes
        i = int(rng.integers(0, n + 1))
        b[i:i] = rng.integers(0, 256, int(rng.integers(1, 256)), dtype=np.uint8).tobytes()
    elif op == 3:  # delete a chunk
        i = int(rng.integers(0, n))
        del b[i:i + int(rng.integers(1, 512))]
    elif op == 4:  # duplicate a chunk
        i = int(rng.integers(0, n))
        chunk = b[i:i + int(rng.integers(1, 512))]
        j = int(rng.integers(0, n + 1))
        b[j:j] = chunk
    elif op == 5:  # interesting byte values
        for i in rng.integers(0, n, rng.integers(1, 9)):
            b[i] = _INTERESTING_BYTES[int(rng.integers(len(_INTERESTING_BYTES)))]
    else:  # overwrite a stretch with one value
        i = int(rng.integers(0, n))
        k = int(rng.integers(1, 64))
        b[i:i + k] = bytes([int(rng.integers(256))]) * len(b[i:i + k])
    return bytes(b)


def _text_mutation(data: bytes, rng: np.random.Generator) -> bytes:
    lines = data.split(b"\n")
    op = rng.integers(3)
    if op == 0 or len(lines) < 2:  # replace numbers on one of the first lines (headers live there)
        k = int(rng.integers(0, min(len(lines), 8)))
        matches = list(_NUMBER.finditer(lines[k]))
        if matches:
            m = matches[int(rng.integers(len(matches)))]
            new = _INTERESTING_NUMBERS[int(rng.integers(len(_INTERESTING_NUMBERS)))]
            lines[k] = lines[k][:m.start()] + new + lines[k][m.end():]
    elif op == 1:  # drop a line
        del lines[int(rng.integers(len(lines)))]
    else:  # repeat a line, or a line with a different field count
        k = int(rng.integers(len(lines)))
        extra = lines[k] + (b",1" if rng.random() < 0.5 else b"")
        lines.insert(k, extra)
    return b"\n".join(lines)


def _png_bomb(rng: np.random.Generator) -> bytes:
    """A PNG whose header declares an enormous image (a decompression bomb's shape)."""
    w, h = int(rng.integers(20_000, 200_000)), int(rng.integers(20_000, 200_000))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    body = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _zip_member_mutation(data: bytes, rng: np.random.Generator) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    except Exception:
        return _byte_mutation(data, rng)
    if not members:
        return data
    k = int(rng.integers(len(members)))
    name, body = members[k]
    if rng.random() < 0.15:  # an unsafe member name
        name = ("../" * int(rng.integers(1, 4))) + name
    body = _text_mutation(body, rng) if name.endswith((".hea", ".csv")) else _byte_mutation(body, rng)
    members[k] = (name, body)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in members:
            zf.writestr(n, b)
    return out.getvalue()


def mutate(files: Files, rng: np.random.Generator, rounds: int | None = None) -> Files:
    """One to three mutations of a file set (which file and which operator drawn from ``rng``)."""
    files = list(files)
    for _ in range(rounds or int(rng.integers(1, 4))):
        k = int(rng.integers(len(files)))
        name, data = files[k]
        ext = Path(name).suffix.lower()
        r = rng.random()
        if ext == ".png" and r < 0.05:
            data = _png_bomb(rng)
        elif ext == ".zip" and r < 0.6:
            data = _zip_member_mutation(data, rng)
        elif ext in (".hea", ".csv") and r < 0.6:
            data = _text_mutation(data, rng)
        else:
            data = _byte_mutation(data, rng)
        files[k] = (name, data)
    return files


# ---------------------------------------------------------------- the contract

def read_outcome(files: Files, fmt: str, fs: float | None = 250.0) -> str:
    """Read ``files`` as a page would (``fs``: the rate a user enters for files that store none); ``"ok"``
    for a valid result, ``"error:<ErrorClass>"`` for a project error with a message. Raises
    :class:`FuzzDefect` for anything else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt in ("image", "pdf"):
                arr = read_image(files[0][1], files[0][0])
                ok = isinstance(arr, np.ndarray) and arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8
                if not ok:
                    raise FuzzDefect(f"image reader returned {type(arr).__name__} {getattr(arr, 'shape', '')}", files)
                return "ok"
            kwargs = {"fs": fs} if fmt in ("csv", "numpy", "zip") else {}
            rec = load_record([Upload(n, b) for n, b in files], **kwargs)
    except ECGError as exc:
        if not str(exc).strip():
            raise FuzzDefect(f"{type(exc).__name__} without a message", files) from exc
        return f"error:{type(exc).__name__}"
    except FuzzDefect:
        raise
    except Exception as exc:
        raise FuzzDefect(f"{type(exc).__name__}: {exc}", files) from exc
    sig = rec.signal
    if not (isinstance(rec, Record) and sig.ndim == 2 and sig.shape[1] > 0 and np.isfinite(sig).all()
            and np.isfinite(rec.fs) and rec.fs > 0 and len(rec.lead_names) == sig.shape[0]):
        raise FuzzDefect(f"reader returned an invalid record: shape {sig.shape}, fs {rec.fs}", files)
    return "ok"


@dataclass
class FuzzReport:
    """Counts per format: inputs tried, outcomes, defects (with the first few inputs kept)."""

    counts: dict[str, Counter] = field(default_factory=dict)
    defects: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {fmt: {"inputs": sum(c.values()), "outcomes": dict(sorted(c.items())),
                      "defects": len(self.defects.get(fmt, [])), "defect_examples": self.defects.get(fmt, [])[:5],
                      "seconds": round(self.seconds.get(fmt, 0.0), 1)} for fmt, c in self.counts.items()}


def fuzz(n_per_format: int, seed: int = 0, record: Record | None = None, formats: tuple[str, ...] = FORMATS,
         time_limit_s: float | None = None) -> FuzzReport:
    """Run ``n_per_format`` mutated inputs of each format (the seeds themselves first) and count outcomes."""
    seeds = seed_inputs(record)
    fs = record.fs if record is not None else 250.0
    report = FuzzReport()
    for fmt in formats:
        rng = np.random.default_rng([seed, FORMATS.index(fmt)])
        counts: Counter = Counter()
        defects: list[str] = []
        t0 = time.perf_counter()
        for i in range(n_per_format):
            base = seeds[fmt][i % len(seeds[fmt])]
            files = base if i < len(seeds[fmt]) else mutate(base, rng)
            try:
                counts[read_outcome(files, fmt, fs)] += 1
            except FuzzDefect as exc:
                counts["defect"] += 1
                defects.append(f"input {i}: {exc}")
            if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
                break
        report.counts[fmt] = counts
        report.defects[fmt] = defects
        report.seconds[fmt] = time.perf_counter() - t0
    return report
