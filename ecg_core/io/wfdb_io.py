"""WFDB records (``.hea`` + ``.dat`` [+ annotation files]) read and written through wfdb-python.

wfdb-python reads the formats; what it does not do is check that a header tells the truth, so this
module compares the header with the data file's size and with the header's checksums before trusting it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import wfdb

from ..errors import RecordFormatError
from ..record import Annotation, Record
from ._checks import check_duration, finish, to_mv_factor

__all__ = ["read_wfdb", "write_wfdb", "write_annotation", "wfdb_zip_bytes"]

log = logging.getLogger(__name__)

# bytes per sample of the WFDB storage formats we read (212 packs two samples into three bytes)
_BYTES_PER_SAMPLE = {"8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5,
                     "310": 4 / 3, "311": 4 / 3, "24": 3.0, "32": 4.0}
_MAX_SIGNALS = 64
_NOT_ANNOTATIONS = {"hea", "dat", "mat", "csv", "txt", "zip", "json", "png", "pdf", "xws", "edf"}


def _parse_comments(comments: list[str]) -> dict:
    """Age, sex and diagnoses from header comments (LUDB ``#<age>: 51`` and MIT-BIH ``# 69 M ...``)."""
    meta: dict = {"comments": list(comments)}
    diagnoses: list[str] = []
    in_dx = False
    for c in comments:
        s = c.strip()
        m = re.match(r"<(\w+)>:\s*(.*)", s)
        if m:
            key, val = m.group(1).lower(), m.group(2).strip()
            in_dx = key == "diagnoses"
            if key == "age" and re.fullmatch(r"\d+(\.\d+)?", val):
                meta["age"] = float(val)
            elif key == "sex" and val[:1].upper() in "MF":
                meta["sex"] = val[:1].upper()
            elif key == "diagnoses" and val:
                diagnoses.append(val)
            continue
        if in_dx and s:
            diagnoses.append(s.rstrip("."))
            continue
        m = re.match(r"^(\d{1,3})\s+([MF])\b", s)  # MIT-BIH: "69 M 1085 1629 x1"
        if m and "age" not in meta:
            meta["age"] = float(m.group(1))
            meta["sex"] = m.group(2)
    if diagnoses:
        meta["diagnoses"] = diagnoses
    return meta


def _check_data_files(header: wfdb.Record, folder: Path, what: str) -> None:
    """Raise when a data file is missing or its size disagrees with the header."""
    files: dict[str, list[int]] = {}
    for i, f in enumerate(header.file_name or []):
        files.setdefault(f, []).append(i)
    for fname, chans in files.items():
        path = folder / fname
        if not path.exists():
            raise RecordFormatError(f"{what}: the data file {fname} named in the header is missing.")
        fmts = {str(header.fmt[i]) for i in chans}
        if len(fmts) != 1 or next(iter(fmts)) not in _BYTES_PER_SAMPLE:
            raise RecordFormatError(
                f"{what}: storage format {', '.join(sorted(fmts))} of {fname} is not supported "
                f"(supported: {', '.join(sorted(_BYTES_PER_SAMPLE, key=int))})."
            )
        if header.sig_len is None or header.sig_len <= 0:
            raise RecordFormatError(f"{what}: the header gives no signal length.")
        offset = max(int(header.byte_offset[i] or 0) for i in chans) if header.byte_offset else 0
        expected = int(np.ceil(header.sig_len * len(chans) * _BYTES_PER_SAMPLE[next(iter(fmts))])) + offset
        actual = path.stat().st_size
        if actual < expected:
            have = (actual - offset) / (len(chans) * _BYTES_PER_SAMPLE[next(iter(fmts))])
            raise RecordFormatError(
                f"{what}: the header promises {header.sig_len} samples per lead but {fname} holds only about "
                f"{max(0, int(have))}: the data file is truncated or the header is wrong."
            )
        if actual > expected + 4:
            # no file name in the log: an upload's name may carry a patient's (the page says nothing either)
            log.info("a WFDB data file has %d bytes after the samples its header describes", actual - expected)


def _check_signal_lines(header: wfdb.Record, what: str) -> None:
    """The record line's signal count must match the signal lines, each complete (name, file, gain)."""
    n = int(header.n_sig)
    if n < 0 or n > _MAX_SIGNALS:
        raise RecordFormatError(f"{what}: the header declares {n} signals; an ECG record has 1 to {_MAX_SIGNALS}.")
    for field_name in ("sig_name", "file_name", "fmt", "adc_gain"):
        values = getattr(header, field_name, None)
        if values is None or len(values) != n or any(v is None for v in values):
            raise RecordFormatError(f"{what}: the header declares {n} signals but its signal lines do not describe "
                                    f"them all (missing or incomplete {field_name.replace('_', ' ')}).")


def _check_gains(header: wfdb.Record, what: str) -> None:
    for name, gain in zip(header.sig_name, header.adc_gain):
        if gain is None or not np.isfinite(gain) or gain <= 0:
            raise RecordFormatError(f"{what}: lead {name} has an invalid gain ({gain}) in the header.")


def _check_checksums(header: wfdb.Record, d_signal: np.ndarray, what: str) -> list[str]:
    """Compare the header's per-lead checksums with the data; a mismatch means a wrong format or gain."""
    if not header.checksum:
        return []
    bad = []
    for i, (name, want) in enumerate(zip(header.sig_name, header.checksum)):
        if want is None:
            continue
        # 16-bit sums: PhysioNet's files write them signed, wfdb-python's writer unsigned; compare modulo 2^16
        got = int(np.sum(d_signal[:, i].astype(np.int64))) & 0xFFFF
        if got != int(want) & 0xFFFF:
            bad.append(name)
    if bad and len(bad) == len(header.sig_name):
        raise RecordFormatError(
            f"{what}: the data do not match the header's checksums for any lead: the storage format or "
            "length in the header is wrong, or the data file is corrupt."
        )
    return [f"{what}: checksum mismatch in lead(s) {', '.join(bad)}; those samples may be corrupt."] if bad else []


def _rdann(record: str, extension: str):
    """``wfdb.rdann(record, extension)`` less one step: when the annotation file does not state its
    sampling rate, rdann parses the record's header again to find it, once per annotation file (LUDB has
    twelve a record), and that was most of a LUDB record's load time. The rate is not used here (the header
    read by :func:`read_wfdb` gives it), so the same steps of wfdb's own reader run, minus that one."""
    from wfdb.io import annotation as wa

    sample, label_store, subtype, chan, num, aux_note = wa.proc_ann_bytes(
        wa.load_byte_pairs(record, extension, None), None)
    definitions, empty = wa.get_special_inds(sample, label_store, aux_note)
    fs, custom_labels = wa.interpret_defintion_annotations(definitions, aux_note)
    sample, label_store, subtype, chan, num, aux_note = wa.rm_empty_indices(
        empty, sample, label_store, subtype, chan, num, aux_note)
    label_store, subtype, chan, num = wa.lists_to_int_arrays(label_store, subtype, chan, num)
    ann = wa.Annotation(record_name=Path(record).name, extension=extension, sample=np.array(sample, dtype="int64"),
                        label_store=label_store, subtype=subtype, chan=chan, num=num, aux_note=aux_note, fs=fs,
                        custom_labels=custom_labels)
    ann.set_label_elements(["symbol"])
    return ann


def annotation_files(folder: Path, record_name: str) -> list[Path]:
    """The files ``record_name.EXT`` next to a header that may be annotations (not data, not empty), in name order."""
    return [p for p in sorted(folder.glob(f"{record_name}.*"))
            if p.suffix[1:] and p.suffix[1:].lower() not in _NOT_ANNOTATIONS and p.stat().st_size > 0]


def read_annotations(folder: Path, record_name: str, what: str) -> tuple[dict[str, Annotation], list[str]]:
    """Every annotation file ``record_name.EXT`` next to the header that wfdb can read."""
    anns: dict[str, Annotation] = {}
    warnings: list[str] = []
    for path in annotation_files(folder, record_name):
        ext = path.suffix[1:]
        try:
            a = _rdann(str(folder / record_name), ext)
        except (ValueError, IndexError, OSError, TypeError) as exc:  # wfdb's parser errors on bad files
            warnings.append(f"{what}: annotation file {path.name} could not be read ({type(exc).__name__}).")
            continue
        aux = tuple(a.aux_note) if a.aux_note is not None and any(a.aux_note) else None
        anns[ext] = Annotation(np.asarray(a.sample, dtype=np.int64), tuple(a.symbol), ext, aux)
    return anns, warnings


def read_wfdb(header_path: str | Path, *, display_name: str | None = None) -> Record:
    """Read a WFDB record from its ``.hea`` path (data and annotation files in the same folder).

    Raises RecordFormatError when a file is missing, truncated or disagrees with the header.
    """
    header_path = Path(header_path)
    folder, rec_name = header_path.parent, header_path.stem
    what = display_name or header_path.name
    try:
        header = wfdb.rdheader(str(folder / rec_name))
    except (ValueError, IndexError, TypeError, AttributeError) as exc:  # wfdb raises these on bad headers
        raise RecordFormatError(f"{what}: the header cannot be parsed ({exc}).") from None
    except FileNotFoundError:
        raise RecordFormatError(f"{what}: header file not found.") from None
    if getattr(header, "n_seg", None):
        raise RecordFormatError(f"{what}: multi-segment WFDB records are not supported yet.")
    if not header.n_sig:
        raise RecordFormatError(f"{what}: the header lists no signals.")
    _check_signal_lines(header, what)
    if header.fs and header.sig_len:
        check_duration(float(header.sig_len), float(header.fs), what)
    _check_data_files(header, folder, what)
    _check_gains(header, what)
    try:
        raw = wfdb.rdrecord(str(folder / rec_name), physical=False, return_res=32)
    except (ValueError, IndexError, OSError) as exc:
        raise RecordFormatError(f"{what}: the data cannot be decoded ({exc}).") from None
    d = np.asarray(raw.d_signal)
    if d.shape[0] != header.sig_len:
        raise RecordFormatError(
            f"{what}: the header promises {header.sig_len} samples but {d.shape[0]} could be read."
        )
    warnings = _check_checksums(header, d, what)
    # lead by lead in float32: a 30-minute record then costs its own size, not several float64 copies
    signal = np.empty((d.shape[1], d.shape[0]), dtype=np.float32)
    for i, (gain, base, unit) in enumerate(zip(raw.adc_gain, raw.baseline, raw.units)):
        signal[i] = (d[:, i] - np.float32(base)) * np.float32(to_mv_factor(unit, what) / gain)
    # WFDB marks missing samples with the format's "invalid" value; treat them as not-a-number
    invalid = {"16": -32768, "212": -2048, "80": -128, "8": -128}
    for i, f in enumerate(raw.fmt):
        if str(f) in invalid:
            signal[i, d[:, i] == invalid[str(f)]] = np.nan
    if np.isnan(signal).any():
        frac = np.isnan(signal).mean()
        if frac > 0.01:
            warnings.append(f"{what}: {frac:.1%} of samples are marked invalid; they are shown as gaps.")
        # short gaps are filled by interpolation so filters run; the warning says so
        for i in range(signal.shape[0]):
            bad = np.isnan(signal[i])
            if bad.any() and (~bad).sum() > 1:
                signal[i, bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), signal[i, ~bad])
    anns, ann_warn = read_annotations(folder, rec_name, what)
    meta = _parse_comments(list(header.comments or []))
    meta["source_format"] = "WFDB"
    meta["storage_format"] = sorted({str(f) for f in raw.fmt})
    rec = Record(signal=signal, fs=float(raw.fs), lead_names=tuple(raw.sig_name), name=rec_name,
                 units=("mV",) * signal.shape[0], metadata=meta, annotations=anns,
                 warnings=tuple(warnings + ann_warn))
    return finish(rec, what)


def write_wfdb(record: Record, out_dir: str | Path, *, fmt: str = "16",
               annotations: dict[str, Annotation] | None = None) -> Path:
    """Write ``record`` (and annotations, default: its own) as WFDB files; returns the header path.

    Gains are chosen per lead so the full range fits the format with microvolt precision or better.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sig = np.nan_to_num(record.signal.astype(np.float64)).T
    full = {"16": 32000, "212": 2000, "80": 120}[fmt]
    peak = np.maximum(np.abs(sig).max(axis=0), 1e-3)
    gains = np.minimum(np.floor(full / peak), 1000.0 if fmt == "16" else 200.0)
    gains = np.maximum(gains, 1.0)
    name = re.sub(r"[^A-Za-z0-9_]", "_", record.name) or "record"
    comments = []
    md = record.metadata
    if "age" in md:
        comments.append(f"<age>: {md['age']:g}")
    if "sex" in md:
        comments.append(f"<sex>: {md['sex']}")
    if md.get("diagnoses"):
        comments.append("<diagnoses>:")
        comments.extend(md["diagnoses"])
    wfdb.wrsamp(name, fs=record.fs, units=["mV"] * record.n_leads, sig_name=list(record.lead_names),
                p_signal=sig, fmt=[fmt] * record.n_leads, adc_gain=list(gains),
                baseline=[0] * record.n_leads, comments=comments, write_dir=str(out_dir))
    for ext, ann in (record.annotations if annotations is None else annotations).items():
        write_annotation(ann, out_dir / name, record.fs, extension=ext)
    return out_dir / f"{name}.hea"


def write_annotation(ann: Annotation, record_path: str | Path, fs: float, *, extension: str | None = None) -> Path:
    """Write an Annotation as a WFDB annotation file ``record_path.EXT`` (readable by PhysioNet tools)."""
    record_path = Path(record_path)
    ext = extension or ann.extension
    order = np.argsort(ann.sample_idx, kind="stable")
    aux = None if ann.aux_note is None else [ann.aux_note[i] for i in order]
    wfdb.wrann(record_path.name, ext, sample=ann.sample_idx[order],
               symbol=[ann.symbol[i] for i in order], aux_note=aux, fs=fs, write_dir=str(record_path.parent))
    return record_path.with_suffix(f".{ext}")


def wfdb_zip_bytes(record: Record, annotation: Annotation | None = None) -> bytes:
    """The record as WFDB files (``.hea``, ``.dat`` and ``annotation`` as ``.EXT``) zipped in memory,
    for a download button; opens in PhysioNet tools after unzipping."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory(prefix="ecg_export_") as tmp:
        anns = {} if annotation is None else {annotation.extension: annotation}
        header = write_wfdb(record, tmp, annotations=anns)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                if f.stem == header.stem:
                    zf.write(f, arcname=f.name)
    return buf.getvalue()
