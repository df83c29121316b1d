"""EDF/EDF+ (and BDF) files through edfio, a maintained pure-Python reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RecordFormatError
from ..record import Record
from ._checks import finish, to_mv_factor

__all__ = ["read_edf"]


def read_edf(path: str | Path, *, display_name: str | None = None) -> Record:
    """Read the ECG signals of an EDF/EDF+ file.

    Signals at the file's highest sampling rate are kept (ECG is the fastest signal in mixed
    recordings); slower channels are named in a warning. Physical units (uV, mV, V) become mV.
    """
    import edfio  # imported here: only EDF users pay for it

    path = Path(path)
    what = display_name or path.name
    try:
        edf = edfio.read_bdf(path) if path.suffix.lower() == ".bdf" else edfio.read_edf(path)
    # edfio's parse errors; a header field out of range reaches numpy's memmap or a division
    except (ValueError, IndexError, UnicodeDecodeError, OSError, EOFError, OverflowError, KeyError,
            TypeError, ZeroDivisionError) as exc:
        raise RecordFormatError(f"{what}: not a readable EDF file ({exc}).") from None
    signals = [s for s in edf.signals if s.sampling_frequency > 0]
    if not signals:
        raise RecordFormatError(f"{what}: the EDF file holds no signals.")
    fs = max(s.sampling_frequency for s in signals)
    keep = [s for s in signals if s.sampling_frequency == fs]
    dropped = [s.label for s in signals if s.sampling_frequency != fs]
    n = min(len(s.data) for s in keep)
    try:  # lead by lead into one float32 array: a long record is decoded once, not stacked in float64
        data = np.empty((len(keep), n), dtype=np.float32)
        for i, s in enumerate(keep):
            data[i] = s.data[:n]
            data[i] *= np.float32(to_mv_factor(s.physical_dimension, what))
    except ValueError as exc:
        raise RecordFormatError(f"{what}: the signal data cannot be decoded ({exc}).") from None
    labels = [s.label.replace("ECG", "").strip() or s.label for s in keep]
    meta = {"source_format": "EDF"}
    patient = getattr(edf, "patient", None)
    if patient is not None:
        sex = getattr(patient, "sex", None)
        if sex in ("M", "F"):
            meta["sex"] = sex
    warns = []
    if dropped:
        warns.append(f"{what}: channel(s) {', '.join(dropped)} have a lower sampling rate and were left out.")
    rec = Record(signal=data, fs=float(fs), lead_names=tuple(labels), name=path.stem,
                 metadata=meta, warnings=tuple(warns))
    return finish(rec, what)
