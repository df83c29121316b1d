"""``load_record``: one entry point for every supported file, from paths or uploaded file objects."""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..errors import FileTooLargeError, RecordFormatError
from ..record import Record
from ._checks import check_size, max_archive_files, max_unpacked_bytes
from .csv_io import read_csv
from .edf_io import read_edf
from .numpy_io import read_numpy
from .wfdb_io import read_wfdb

__all__ = ["load_record", "SUPPORTED_EXTENSIONS", "Upload"]

log = logging.getLogger(__name__)

Source = str | os.PathLike | IO[bytes] | Any

_READERS = {
    ".hea": "wfdb", ".dat": "wfdb", ".atr": "wfdb",
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".edf": "edf", ".bdf": "edf",
    ".npy": "numpy", ".npz": "numpy",
    ".zip": "zip",
}
SUPPORTED_EXTENSIONS = tuple(sorted(_READERS))


@dataclass
class Upload:
    """A file held in memory as a page hands it over (a name and the bytes, like Streamlit's
    UploadedFile): what :func:`load_record` takes besides paths."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def _name_of(obj: Any) -> str:
    return Path(str(getattr(obj, "name", None) or obj)).name


def _bytes_of(obj: Any) -> bytes:
    if hasattr(obj, "getvalue"):
        return obj.getvalue()
    if hasattr(obj, "read"):
        if hasattr(obj, "seek"):
            obj.seek(0)
        return obj.read()
    raise TypeError(f"cannot read {type(obj).__name__}: give a path or a file object")


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def load_record(source: Source | Iterable[Source], *, fs: float | None = None, units: str | None = None,
                max_bytes: int | None = None) -> Record:
    """Read an ECG record from a path, an uploaded file object, or several of them.

    Args:
        source: a path (``.hea``/``.dat`` of WFDB, ``.csv``/``.tsv``, ``.edf``, ``.npy``/``.npz``, ``.zip``
            holding any of those), an object with ``name`` and ``getvalue()``/``read()`` (a Streamlit
            upload), or a list of them (a WFDB header with its data and annotation files).
        fs: sampling rate in Hz for formats that do not store one (NumPy, CSV without time column).
        units: unit of the values for CSV/NumPy (``"mV"`` default, ``"uV"``, ``"V"``).
        max_bytes: size limit of one file (default ``ECG_MAX_FILE_MB``, 200 MB).

    Returns:
        a validated :class:`~ecg_core.record.Record` in mV.

    Raises:
        RecordFormatError, RecordValueError, FileTooLargeError: with a message naming the file.

    Example:
        >>> rec = load_record("mitdb/100.hea")  # doctest: +SKIP
        >>> rec.signal.shape, rec.fs
        ((2, 650000), 360.0)
    """
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    if not items:
        raise RecordFormatError("no file was given.")
    if all(_is_path(i) for i in items):
        paths = [Path(i) for i in items]
        for p in paths:
            if not p.exists():
                raise RecordFormatError(f"{p.name}: file not found.")
            check_size(p.stat().st_size, p.name, max_bytes)
        if len(paths) == 1 and paths[0].suffix.lower() not in (".dat", ".atr"):
            return _read_path(paths[0], fs=fs, units=units, max_bytes=max_bytes)
        # a WFDB set given as paths: read from the header's folder
        return _read_path(_pick_header(paths), fs=fs, units=units, max_bytes=max_bytes)
    with tempfile.TemporaryDirectory(prefix="ecg_upload_") as tmp:
        written = []
        for obj in items:
            name = _safe_name(_name_of(obj))
            data = _bytes_of(obj)
            check_size(len(data), name, max_bytes)
            target = Path(tmp) / name
            target.write_bytes(data)
            written.append(target)
        main = written[0] if len(written) == 1 else _pick_header(written)
        return _read_path(main, fs=fs, units=units, max_bytes=max_bytes)


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    if base in ("", ".", ".."):
        raise RecordFormatError(f"{name!r}: not a valid file name.")
    return base


def _is_master_header(text: bytes) -> bool:
    """Whether a WFDB header's record line names segments (``name/n_seg ...``): a multi-segment record's
    master header, which lists the other headers beside it."""
    for line in text.decode("latin-1").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return "/" in line.split()[0]
    return False


def _pick_header(paths: list[Path]) -> Path:
    headers = [p for p in paths if p.suffix.lower() == ".hea"]
    if len(headers) == 1:
        return headers[0]
    masters = [p for p in headers if _is_master_header(p.read_bytes()[:4096])]
    if len(masters) == 1:
        return masters[0]
    names = ", ".join(p.name for p in paths)
    if not headers:
        if len(paths) == 1:
            return paths[0]
        raise RecordFormatError(f"{names}: several files but no WFDB header (.hea) among them.")
    raise RecordFormatError(f"{names}: several WFDB headers; give one record at a time.")


def _read_path(path: Path, *, fs: float | None, units: str | None, max_bytes: int | None) -> Record:
    ext = path.suffix.lower()
    kind = _READERS.get(ext)
    if kind is None:
        raise RecordFormatError(
            f"{path.name}: files of type '{ext or 'none'}' are not supported; use one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)}."
        )
    if kind == "wfdb":
        header = path.with_suffix(".hea")
        if not header.exists():
            raise RecordFormatError(f"{path.name}: the WFDB header {header.name} is missing; upload it too.")
        return read_wfdb(header)
    if kind == "csv":
        return read_csv(path, fs=fs, units=units)
    if kind == "edf":
        return read_edf(path)
    if kind == "numpy":
        return read_numpy(path, fs=fs, units=units)
    return _read_zip(path, fs=fs, units=units, max_bytes=max_bytes)


def _read_zip(path: Path, *, fs: float | None, units: str | None, max_bytes: int | None) -> Record:
    what = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError) as exc:  # incl. "zip version"
        raise RecordFormatError(f"{what}: not a readable zip archive ({exc}).") from None
    with zf, tempfile.TemporaryDirectory(prefix="ecg_zip_") as tmp:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_archive_files():
            raise FileTooLargeError(f"{what}: the archive holds {len(infos)} files, over the limit of "
                                    f"{max_archive_files()}.")
        total = sum(i.file_size for i in infos)
        if total > max_unpacked_bytes():
            raise FileTooLargeError(
                f"{what}: the archive unpacks to {total / 1e6:.0f} MB, over the {max_unpacked_bytes() / 1e6:.0f} MB "
                "limit."
            )
        for info in infos:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise RecordFormatError(
                    f"{what}: the archive contains an unsafe file name ({info.filename!r}) that points outside "
                    "the archive; it was not unpacked."
                )
        candidates = [i for i in infos if PurePosixPath(i.filename).suffix.lower() in _READERS
                      and PurePosixPath(i.filename).suffix.lower() != ".zip"
                      and not PurePosixPath(i.filename).name.startswith(".")]
        headers = [i for i in candidates if i.filename.lower().endswith(".hea")]
        if len(headers) > 1:  # a multi-segment record: its master header and the segments' headers
            masters = [h for h in headers if h.file_size < (1 << 20) and _is_master_header(zf.read(h)[:4096])]
            headers = masters if len(masters) == 1 else headers
        if headers:
            if len(headers) > 1:
                raise RecordFormatError(
                    f"{what}: the archive holds {len(headers)} records "
                    f"({', '.join(PurePosixPath(h.filename).stem for h in headers[:5])}...); "
                    "put one record per archive."
                )
            main = headers[0]
        else:
            signal_files = [i for i in candidates
                            if PurePosixPath(i.filename).suffix.lower() not in (".dat", ".atr")]
            if len(signal_files) != 1:
                raise RecordFormatError(
                    f"{what}: the archive must hold one WFDB header (.hea) with its data, or one CSV/EDF/NumPy "
                    f"file; found {len(signal_files)} candidate files and no header."
                )
            main = signal_files[0]
        folder = PurePosixPath(main.filename).parent
        for info in infos:
            p = PurePosixPath(info.filename)
            if p.parent != folder:
                continue
            check_size(info.file_size, f"{what}/{p.name}", max_bytes)
            target = Path(tmp) / p.name
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    # copy in chunks and count: file_size in the directory can lie (zip bombs)
                    n = 0
                    while chunk := src.read(1 << 20):
                        n += len(chunk)
                        if n > max_unpacked_bytes():
                            raise FileTooLargeError(f"{what}: {p.name} unpacks to more than the size limit.")
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
                    RuntimeError) as exc:  # damaged entry, unsupported compression, encrypted member
                raise RecordFormatError(f"{what}: {p.name} in the archive is damaged or cannot be unpacked "
                                        f"({exc}).") from None
        return _read_path(Path(tmp) / PurePosixPath(main.filename).name, fs=fs, units=units, max_bytes=max_bytes)
