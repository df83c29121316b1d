"""EDF/EDF+ (and BDF) files through edfio, a maintained pure-Python reader."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..errors import RecordFormatError
from ..record import AuxSignal, Record
from ._checks import finish, is_ecg_channel, to_mv_factor

__all__ = ["read_edf"]

_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")


def _raw_units(path: Path) -> list[str] | None:
    """Physical-dimension fields of the data signals, decoded as Latin-1 from the header bytes.

    edfio decodes them as ASCII and turns a '°' (0xB0, common for temperature) into '�'; the EDF spec
    says ASCII, but Latin-1 is what writers put there. Field layout (EDF spec): the 256-byte fixed header
    holds the signal count at 252..256; per signal, 16 bytes of label then 80 of transducer, then the
    8-byte dimensions. ``None`` when the header cannot be read this way (edfio's values are used).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
            ns = int(head[252:256].decode("ascii").strip())
            if not 0 < ns <= 4096:
                return None
            block = fh.read(ns * 256)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if len(block) < ns * 104:
        return None
    labels = [block[i * 16:(i + 1) * 16].decode("latin-1").strip() for i in range(ns)]
    dims = [block[ns * 96 + i * 8: ns * 96 + (i + 1) * 8].decode("latin-1").strip() for i in range(ns)]
    return [d for lab, d in zip(labels, dims) if lab not in _ANNOTATION_LABELS]


def _patient_fields(edf) -> dict:
    """Sex and age (at the recording's start date) from the EDF+ patient and recording fields; anonymised
    ('X') or free-text (plain EDF) fields give nothing."""
    out: dict = {}
    try:
        patient = edf.patient
    except Exception:  # a plain-EDF free-text patient field edfio cannot split
        return out
    try:
        if patient.sex in ("M", "F"):
            out["sex"] = patient.sex
    except Exception:
        pass
    try:
        born, start = patient.birthdate, edf.startdate
    except Exception:  # edfio's AnonymizedDateError for 'X', ValueError for a bad date
        return out
    if isinstance(born, _dt.date) and isinstance(start, _dt.date) and born <= start:
        age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
        if 0 <= age <= 125:
            out["age"] = int(age)
    return out


def read_edf(path: str | Path, *, display_name: str | None = None) -> Record:
    """Read an EDF/EDF+ file: ECG leads become the signal, other channels are kept aside.

    A channel is an ECG lead when :func:`~ecg_core.io._checks.is_ecg_channel` says so (voltage unit, a
    name that is not a known non-ECG signal); the others (temperature, respiration, pleth, EEG...) become
    :class:`~ecg_core.record.AuxSignal` in their own unit and rate. ECG leads at the leads' highest rate
    are kept; slower ECG leads are named in a warning. Physical units (uV, mV, V) become mV.
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
        only = " (only annotations)" if getattr(edf, "annotations", None) else ""
        raise RecordFormatError(f"{what}: the EDF file holds no signals{only}.")
    raw = _raw_units(path)
    units = raw if raw is not None and len(raw) == len(edf.signals) else [s.physical_dimension for s in edf.signals]
    unit_of = {id(s): u for s, u in zip(edf.signals, units)}
    ecg = [s for s in signals if is_ecg_channel(s.label, unit_of[id(s)])]
    try:
        aux = tuple(AuxSignal(s.label, unit_of[id(s)], np.asarray(s.data, dtype=np.float32), s.sampling_frequency)
                    for s in signals if not any(s is e for e in ecg))
    except ValueError as exc:
        raise RecordFormatError(f"{what}: the signal data cannot be decoded ({exc}).") from None
    if not ecg:
        listing = ", ".join(f"{a.name} ({a.unit or 'no unit'})" for a in aux)
        raise RecordFormatError(f"{what}: the file holds no ECG lead (its channels: {listing}).")
    fs = max(s.sampling_frequency for s in ecg)
    keep = [s for s in ecg if s.sampling_frequency == fs]
    dropped = [s.label for s in ecg if s.sampling_frequency != fs]
    n = min(len(s.data) for s in keep)
    try:  # lead by lead into one float32 array: a long record is decoded once, not stacked in float64
        data = np.empty((len(keep), n), dtype=np.float32)
        for i, s in enumerate(keep):
            data[i] = s.data[:n]
            data[i] *= np.float32(to_mv_factor(unit_of[id(s)], what))
    except ValueError as exc:
        raise RecordFormatError(f"{what}: the signal data cannot be decoded ({exc}).") from None
    labels = [s.label.replace("ECG", "").strip() or s.label for s in keep]
    meta = {"source_format": "EDF", **_patient_fields(edf)}
    warns = []
    if dropped:
        warns.append(f"{what}: ECG lead(s) {', '.join(dropped)} have a lower sampling rate than the others and "
                     "were left out.")
    rec = Record(signal=data, fs=float(fs), lead_names=tuple(labels), name=path.stem,
                 metadata=meta, warnings=tuple(warns), aux=aux)
    return finish(rec, what)
