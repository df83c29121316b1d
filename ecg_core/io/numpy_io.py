"""NumPy arrays: ``.npy`` (signal only; give ``fs``) and ``.npz`` (``signal``, ``fs``, ``lead_names``, ``units``)."""

from __future__ import annotations

import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np
import numpy.lib.format as npformat

from ..errors import FileTooLargeError, RecordFormatError
from ..record import STANDARD_12_LEADS, Record
from ._checks import check_fs, finish, max_unpacked_bytes, to_mv_factor

__all__ = ["read_numpy"]

_MAX_LEADS = 16
# what NumPy's loader raises on damaged files (its header is parsed as a Python literal)
_PARSE_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError, tokenize.TokenError, zlib.error,
                 KeyError, TypeError, OverflowError, NotImplementedError, RuntimeError)


def _check_declared_size(path: Path, what: str) -> None:
    """Refuse before allocating: an ``.npy`` header whose shape needs more bytes than the file holds, or an
    ``.npz`` whose members unpack past the archive limit (a small file may declare a huge array)."""
    limit = max_unpacked_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
        if total > limit:
            raise FileTooLargeError(f"{what}: the arrays unpack to {total / 1e6:.0f} MB, over the "
                                    f"{limit / 1e6:.0f} MB limit.")
        return
    with open(path, "rb") as fh:
        try:
            version = npformat.read_magic(fh)
            read = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
            shape, _, dtype = read(fh)
        except _PARSE_ERRORS:
            return  # np.load names the problem below
        need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        have = path.stat().st_size - fh.tell()
    if need > have:
        raise RecordFormatError(f"{what}: the header declares an array of shape {shape} ({need / 1e6:.1f} MB) but "
                                f"the file holds {max(have, 0) / 1e6:.1f} MB of data; it is truncated or damaged.")


def read_numpy(path: str | Path, *, fs: float | None = None, units: str | None = None,
               lead_names: list[str] | None = None, display_name: str | None = None) -> Record:
    """Read an array of shape ``(n_leads, n_samples)`` or ``(n_samples, n_leads)`` (at most 16 leads).

    Pickled objects are refused (``allow_pickle=False``): an uploaded file must not run code.
    """
    path = Path(path)
    what = display_name or path.name
    meta_units = None
    try:
        _check_declared_size(path, what)
        obj = np.load(path, allow_pickle=False)
        if isinstance(obj, np.lib.npyio.NpzFile):
            with obj:
                keys = set(obj.files)
                key = next((k for k in ("signal", "ecg", "data", "x") if k in keys), None)
                if key is None:
                    if len(keys) != 1:
                        raise RecordFormatError(
                            f"{what}: the archive must hold an array named 'signal' (found {', '.join(sorted(keys))})."
                        )
                    key = next(iter(keys))
                arr = np.asarray(obj[key])
                if fs is None and "fs" in keys:
                    fs = float(np.asarray(obj["fs"]).reshape(-1)[0])
                if lead_names is None and "lead_names" in keys:
                    lead_names = [str(x) for x in np.asarray(obj["lead_names"]).reshape(-1)]
                if "units" in keys:
                    meta_units = str(np.asarray(obj["units"]).reshape(-1)[0])
        else:
            arr = np.asarray(obj)
    except _PARSE_ERRORS as exc:
        raise RecordFormatError(f"{what}: not a readable NumPy file ({exc}).") from None
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise RecordFormatError(f"{what}: the array holds {arr.dtype} values, not real numbers.")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise RecordFormatError(f"{what}: expected a 2-D array (leads x samples), got shape {arr.shape}.")
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T  # more rows than columns: samples are rows
    if arr.shape[0] > _MAX_LEADS:
        raise RecordFormatError(f"{what}: {arr.shape[0]} leads is more than the {_MAX_LEADS} an ECG has.")
    fs = check_fs(fs, what)
    n = arr.shape[0]
    if lead_names is None:
        lead_names = list(STANDARD_12_LEADS) if n == 12 \
            else [f"lead{i + 1}" for i in range(n)]
    if len(lead_names) != n:
        raise RecordFormatError(f"{what}: {len(lead_names)} lead names for {n} leads.")
    factor = to_mv_factor(units or meta_units or "mV", what)
    sig = arr.astype(np.float32)  # one copy, in the record's own type
    if factor != 1.0:
        sig *= np.float32(factor)
    rec = Record(signal=sig, fs=fs,
                 lead_names=tuple(lead_names), name=path.stem, metadata={"source_format": "NumPy"})
    return finish(rec, what, units_given=units)

