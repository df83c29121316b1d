"""WFDB records (``.hea`` + ``.dat`` [+ annotation files]) read and written through wfdb-python.

wfdb-python reads the formats; what it does not do is check that a header tells the truth, so this
module compares the header with the data file's size and with the header's checksums before trusting it.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import wfdb
from scipy.signal import resample_poly
from wfdb.io import annotation as wa

from ..errors import RecordFormatError
from ..record import Annotation, AuxSignal, Record
from ._checks import check_duration, finish, is_ecg_channel, to_mv_factor

__all__ = ["read_wfdb", "read_wfdb_channels", "write_wfdb", "write_annotation", "wfdb_zip_bytes"]

log = logging.getLogger(__name__)
#: bump when the samples read_wfdb returns change: cached beat datasets (ecg_core.data.beats) depend on it
WFDB_READER_VERSION = 2

# bytes per sample of the WFDB storage formats we read (212 packs two samples into three bytes)
_BYTES_PER_SAMPLE = {"8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5,
                     "310": 4 / 3, "311": 4 / 3, "24": 3.0, "32": 4.0}
_MAX_SIGNALS = 64
_NOT_ANNOTATIONS = {"hea", "dat", "mat", "csv", "txt", "zip", "json", "png", "pdf", "xws", "edf"}


_SEX = {"m": "M", "male": "M", "f": "F", "female": "F"}


def _parse_comments(comments: list[str]) -> dict:
    """Age, sex and diagnoses from header comments, in the layouts PhysioNet databases use:
    LUDB's ``<age>: 51`` one per line, the same fields on one line (``<age>: 25  <sex>: M  <diagnoses>:
    (none)``), PTB's ``age: 81`` / ``sex: female`` / ``Reason for admission: ...``, and MIT-BIH's
    ``69 M 1085 1629 x1``."""
    meta: dict = {"comments": list(comments)}
    diagnoses: list[str] = []
    in_dx = False
    for c in comments:
        s = c.strip()
        fields = re.findall(r"<([\w ]+)>:\s*(.*?)(?=\s*<[\w ]+>:|$)", s)
        if not fields:
            m = re.match(r"^(age|sex|gender|reason for admission|diagnosis|diagnoses)\s*:\s*(.*)$", s, re.I)
            fields = [(m.group(1), m.group(2))] if m else []
        if fields:
            for key, val in fields:
                key, val = key.strip().lower(), val.strip()
                in_dx = key in ("diagnoses", "diagnosis")
                if key == "age" and re.fullmatch(r"\d+(\.\d+)?", val):
                    meta["age"] = float(val)
                elif key in ("sex", "gender") and val.lower() in _SEX:
                    meta["sex"] = _SEX[val.lower()]
                elif key in ("diagnoses", "diagnosis", "reason for admission") and val and val.lower() not in (
                        "(none)", "none", "n/a", "unknown"):
                    diagnoses.append(val.rstrip("."))
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


# formats wfdb decodes from FLAC-compressed data files (through the optional soundfile package)
_FLAC_FORMATS = {"508", "516", "524"}
# the stored value that marks a missing sample, by format (the WFDB spec; format 8 stores differences, has none)
_INVALID_SAMPLE = {"16": -32768, "61": -32768, "80": -128, "160": -32768, "212": -2048, "310": -512, "311": -512,
                   "24": -8388608, "32": -2147483648, "508": -128, "516": -32768, "524": -8388608}


def _check_data_files(header: wfdb.Record, folder: Path, what: str) -> None:
    """Raise when a data file is missing or its size disagrees with the header.

    A header without a signal length (allowed by the WFDB spec) gets it from the data file's size here,
    as wfdb does; FLAC-compressed files cannot be sized, so their length is checked after decoding.
    """
    files: dict[str, list[int]] = {}
    for i, f in enumerate(header.file_name or []):
        files.setdefault(f, []).append(i)
    for fname, chans in files.items():
        path = folder / fname
        if fname == "~" or not path.exists():
            raise RecordFormatError(f"{what}: the data file {fname} named in the header is missing.")
        fmts = {str(header.fmt[i]) for i in chans}
        if len(fmts) != 1 or not (fmts <= set(_BYTES_PER_SAMPLE) | _FLAC_FORMATS):
            raise RecordFormatError(
                f"{what}: storage format {', '.join(sorted(fmts))} of {fname} is not supported "
                f"(supported: {', '.join(sorted(set(_BYTES_PER_SAMPLE) | _FLAC_FORMATS, key=int))})."
            )
        fmt = next(iter(fmts))
        if fmt in _FLAC_FORMATS:
            try:
                import soundfile  # noqa: F401  (wfdb's optional FLAC decoder)
            except ImportError:
                raise RecordFormatError(f"{what}: {fname} is FLAC-compressed (format {fmt}); reading it needs the "
                                        "'soundfile' package (pip install soundfile).") from None
            continue
        spf = sum(int((header.samps_per_frame or [1] * len(header.fmt))[i] or 1) for i in chans)
        offset = max(int(header.byte_offset[i] or 0) for i in chans) if header.byte_offset else 0
        actual = path.stat().st_size
        if header.sig_len is None:
            header.sig_len = int((actual - offset) // (spf * _BYTES_PER_SAMPLE[fmt]))
        if header.sig_len <= 0:
            raise RecordFormatError(f"{what}: the header gives no samples (signal length {header.sig_len}).")
        expected = int(np.ceil(header.sig_len * spf * _BYTES_PER_SAMPLE[fmt])) + offset
        if actual < expected:
            have = (actual - offset) / (spf * _BYTES_PER_SAMPLE[fmt])
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


def _check_checksums(header: wfdb.Record, d_signals: list[np.ndarray], what: str) -> list[str]:
    """Compare the header's per-lead checksums with the data; a mismatch means a wrong format or gain.

    ``d_signals`` are the stored samples of each signal, every sample of every frame, as the file holds
    them (not skew-shifted): what the checksum was computed over. A checksum of 0 on every signal is a
    placeholder ("not given", as CinC 2017's headers carry), not a claim.
    """
    if not header.checksum or all(c in (None, 0) for c in header.checksum):
        return []
    bad = []
    for name, want, d in zip(header.sig_name, header.checksum, d_signals):
        if want is None:
            continue
        # 16-bit sums: PhysioNet's files write them signed, wfdb-python's writer unsigned; compare modulo 2^16
        got = int(np.sum(np.asarray(d).astype(np.int64))) & 0xFFFF
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


def _header_units(header_path: Path) -> list[str | None]:
    """Each signal line's unit as the header spells it, decoded as UTF-8 or else Latin-1 (EDF-converted
    headers write '\u00b0' as one Latin-1 byte, which wfdb's text read turns into a replacement character
    and then drops for 'mV'); ``None`` where the line gives no unit."""
    raw = header_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    units: list[str | None] = []
    for ln in lines[1:]:
        fields = ln.split()
        spec = fields[2] if len(fields) > 2 else ""
        units.append(spec.split("/", 1)[1] if "/" in spec else None)
    return units


def _read_header(folder: Path, rec_name: str, what: str) -> wfdb.Record:
    try:
        return wfdb.rdheader(str(folder / rec_name))
    except (ValueError, IndexError, TypeError, AttributeError, UnicodeDecodeError) as exc:  # wfdb on bad headers
        raise RecordFormatError(f"{what}: the header cannot be parsed ({exc}).") from None
    except FileNotFoundError:
        raise RecordFormatError(f"{what}: header file not found.") from None


def _physical(d: np.ndarray, gain: float, base: float, fmt: str, scale: float = 1.0) -> np.ndarray:
    """Stored samples to physical units times ``scale`` ((d - baseline) * scale / gain, as wfdb's ``dac``),
    float32, with the format's "invalid sample" value as NaN. The step ``scale / gain`` is rounded to
    float32 first, as this reader always did: the shipped models' card figures were measured on samples
    made this way (within 1e-7 of wfdb's). One channel at a time, so a long record costs its own size."""
    x = ((np.asarray(d) - np.float32(base)) * np.float32(scale / gain)).astype(np.float32)
    nan_value = _INVALID_SAMPLE.get(fmt)
    if nan_value is not None:
        x[np.asarray(d) == nan_value] = np.nan
    return x


def _to_frame_rate(x: np.ndarray, k: int, base: int) -> np.ndarray:
    """A signal stored ``k`` samples per frame brought to ``base`` samples per frame: the mean of each
    group of ``k / base`` (what wfdb's ``smooth_frames`` does for base 1), else polyphase resampling."""
    if k == base:
        return x
    if k % base == 0:
        r = k // base
        n = len(x) // r * r
        return x[:n].reshape(-1, r).mean(axis=1)
    return resample_poly(np.nan_to_num(x), base, k)


def _channels(names, units, fs_frame: float, n_frames: int, spf: list[int], physical, what: str):
    """Split channels into ECG leads (one rate, mV) and auxiliary signals (own rate and unit), converting
    each once: ``physical(i, scale)`` gives channel ``i`` in its header units times ``scale``, float32.

    The ECG leads' rate is the frame rate times the fewest samples per frame among them; a lead stored
    faster is averaged down to it (and said so in a warning).
    """
    ecg = [i for i, (n, u) in enumerate(zip(names, units)) if is_ecg_channel(n, u)]
    aux = [AuxSignal(names[i], units[i] or "", physical(i, 1.0), fs_frame * spf[i])
           for i in range(len(names)) if i not in ecg]
    if not ecg:
        listing = ", ".join(f"{a.name} ({a.unit or 'no unit'})" for a in aux)
        raise RecordFormatError(f"{what}: the record holds no ECG lead (its channels: {listing}).")
    base = min(spf[i] for i in ecg)
    signal = np.empty((len(ecg), n_frames * base), dtype=np.float32)
    for j, i in enumerate(ecg):  # lead by lead: a long record costs its own size, not float64 copies
        signal[j] = _to_frame_rate(physical(i, to_mv_factor(units[i], what)), spf[i], base)[: signal.shape[1]]
    warnings = []
    faster = [names[i] for i in ecg if spf[i] != base]
    if faster:
        warnings.append(f"{what}: lead(s) {', '.join(faster)} were recorded at a higher rate than the others and "
                        f"were averaged to {fs_frame * base:g} Hz.")
    return signal, fs_frame * base, tuple(names[i] for i in ecg), aux, warnings


def _fill_gaps(signal: np.ndarray, what: str) -> list[str]:
    """Invalid (NaN) ECG samples: a warning when over 1 % of them, then linear interpolation so filters
    run; a long gap becomes a flat stretch that the quality check rates and beat detection skips."""
    bad_all = np.isnan(signal)
    if not bad_all.any():
        return []
    frac = bad_all.mean()
    out = [f"{what}: {frac:.1%} of samples are marked invalid; they are shown as gaps."] if frac > 0.01 else []
    for i in range(signal.shape[0]):
        bad = bad_all[i]
        if bad.any() and (~bad).sum() > 1:
            signal[i, bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), signal[i, ~bad])
    return out


def _rd_stored(path: str, *, one_per_frame: bool, ignore_skew: bool) -> list[np.ndarray]:
    """Every stored sample of each signal as integers, through ``wfdb.rdrecord(physical=False)``.

    One sample per frame: the frame-aligned ``d_signal`` at 32 bits. Otherwise ``smooth_frames=False``;
    wfdb 4.3.1's dtype conversion of those expanded arrays fails for byte-swapped formats (61: "invalid
    literal for int()"), and such records are asked for at 64 bits, then left as wfdb returns them.
    """
    if one_per_frame:
        d = wfdb.rdrecord(path, physical=False, return_res=32, ignore_skew=ignore_skew).d_signal
        return [d[:, i] for i in range(d.shape[1])]
    try:
        return wfdb.rdrecord(path, physical=False, return_res=32, smooth_frames=False,
                             ignore_skew=ignore_skew).e_d_signal
    except ValueError as exc:
        if "invalid literal" not in str(exc):
            raise
    return wfdb.rdrecord(path, physical=False, return_res=64, smooth_frames=False, ignore_skew=ignore_skew).e_d_signal


def _decode_single(header: wfdb.Record, folder: Path, rec_name: str, what: str):
    """The stored samples of a single-segment record whose header is parsed, after the header passes
    every check; returns ``(digital, spf, warnings)``: each channel's every stored sample (integers, skew
    applied) and its samples per frame."""
    if not header.n_sig:
        raise RecordFormatError(f"{what}: the header lists no signals.")
    _check_signal_lines(header, what)
    if header.sig_len == 0 and all(f == "~" for f in header.file_name):
        raise RecordFormatError(f"{what}: this is the layout header of a multi-segment record (signal names and "
                                "gains, no samples); open the record's master header instead.")
    if header.fs and header.sig_len:
        check_duration(float(header.sig_len), float(header.fs), what)
    _check_data_files(header, folder, what)
    _check_gains(header, what)
    if header.sig_len is None:  # FLAC data without a length in the header: wfdb cannot read it either
        raise RecordFormatError(f"{what}: the header gives no signal length and its FLAC data cannot be sized.")
    spf = [int(k or 1) for k in (header.samps_per_frame or [1] * header.n_sig)]
    skewed = any(int(k or 0) for k in (header.skew or []))
    path = str(folder / rec_name)
    try:
        one = all(k == 1 for k in spf)
        digital = _rd_stored(path, one_per_frame=one, ignore_skew=False)
        # checksums cover the samples as stored; a skewed read has shifted them (a second read, skew only)
        stored = digital if not skewed else _rd_stored(path, one_per_frame=one, ignore_skew=True)
    except (ValueError, IndexError, OSError, RuntimeError, TypeError) as exc:
        raise RecordFormatError(f"{what}: the data cannot be decoded ({exc}).") from None
    for d, k in zip(digital, spf):
        if len(d) != header.sig_len * k:
            raise RecordFormatError(
                f"{what}: the header promises {header.sig_len} samples but {len(d) // k} could be read."
            )
    return digital, spf, _check_checksums(header, stored, what)


def read_wfdb_channels(header_path: str | Path) -> list[np.ndarray]:
    """Every channel of a single-segment WFDB record in the header's units (float32, every sample of every
    frame, NaN where invalid, skew applied), checked against its header: the layer the conformance test
    compares with ``wfdb.rdrecord``, before any ECG plausibility check."""
    header_path = Path(header_path)
    header = _read_header(header_path.parent, header_path.stem, header_path.name)
    digital, _, _ = _decode_single(header, header_path.parent, header_path.stem, header_path.name)
    return [_physical(d, g, b, str(f)) for d, g, b, f in zip(digital, header.adc_gain, header.baseline, header.fmt)]


def read_wfdb(header_path: str | Path, *, display_name: str | None = None) -> Record:
    """Read a WFDB record from its ``.hea`` path (data and annotation files in the same folder).

    Single- and multi-segment records (fixed or variable layout), every storage format wfdb reads (FLAC
    508/516/524 through its optional soundfile dependency), headers without a length, skew, byte offsets
    and several samples per frame. ECG leads become the signal in mV; other channels (pressure, pleth,
    respiration, 'NU'...) are kept as :attr:`Record.aux` in their own units.

    Raises RecordFormatError when a file is missing, truncated or disagrees with the header.
    """
    header_path = Path(header_path)
    folder, rec_name = header_path.parent, header_path.stem
    what = display_name or header_path.name
    header = _read_header(folder, rec_name, what)
    if getattr(header, "n_seg", None):
        return _read_multi_segment(header, folder, rec_name, what)
    digital, spf, warnings = _decode_single(header, folder, rec_name, what)
    units = [u if u is not None else w for u, w in zip(_header_units(header_path), header.units)]

    def physical(i: int, scale: float) -> np.ndarray:
        return _physical(digital[i], header.adc_gain[i], header.baseline[i], str(header.fmt[i]), scale)

    signal, fs, names, aux, more = _channels(list(header.sig_name), units, float(header.fs), int(header.sig_len),
                                             spf, physical, what)
    warnings += more + _fill_gaps(signal, what)
    anns, ann_warn = read_annotations(folder, rec_name, what)
    meta = _parse_comments(list(header.comments or []))
    meta["source_format"] = "WFDB"
    meta["storage_format"] = sorted({str(f) for f in header.fmt})
    rec = Record(signal=signal, fs=fs, lead_names=names, name=rec_name, units=("mV",) * signal.shape[0],
                 metadata=meta, annotations=anns, warnings=tuple(warnings + ann_warn), aux=tuple(aux))
    return finish(rec, what, units_from_header=True)


def _read_multi_segment(header, folder: Path, rec_name: str, what: str) -> Record:
    """A multi-segment record through wfdb's own reader (``rdrecord`` with ``m2s``: segments joined, a
    variable layout's absent channels and '~' gaps as NaN), after each segment's header and data files
    pass the same checks as a single record."""
    seg_names = [str(n) for n in (header.seg_name or [])]
    if not seg_names or header.sig_len is None:
        raise RecordFormatError(f"{what}: the multi-segment header lists no segments or no total length.")
    if header.fs:
        check_duration(float(header.sig_len), float(header.fs), what)
    for seg, seg_len in zip(seg_names, header.seg_len):
        if seg == "~":
            continue
        if not (folder / f"{seg}.hea").exists():
            raise RecordFormatError(f"{what}: segment {seg} of this multi-segment record is missing ({seg}.hea).")
        seg_header = _read_header(folder, seg, f"{what} (segment {seg})")
        if not int(seg_len) or not seg_header.n_sig:
            continue  # a layout header: signal names and gains only, no data
        _check_signal_lines(seg_header, f"{what} (segment {seg})")
        _check_data_files(seg_header, folder, f"{what} (segment {seg})")
        _check_gains(seg_header, f"{what} (segment {seg})")
    try:
        raw = wfdb.rdrecord(str(folder / rec_name), physical=True, m2s=True, smooth_frames=False)
    except (ValueError, IndexError, OSError, RuntimeError, TypeError, KeyError) as exc:
        raise RecordFormatError(f"{what}: the multi-segment record cannot be decoded ({exc}).") from None
    p = raw.e_p_signal
    spf = [int(k or 1) for k in (raw.samps_per_frame or [1] * len(p))]
    if any(len(x) != int(header.sig_len) * k for x, k in zip(p, spf)):
        raise RecordFormatError(f"{what}: the segments hold {min(len(x) // k for x, k in zip(p, spf))} "
                                f"samples, not the {header.sig_len} the header promises.")
    names, units = list(raw.sig_name), list(raw.units)
    signal, fs, leads, aux, warnings = _channels(names, units, float(raw.fs), int(header.sig_len), spf,
                                                 lambda i, scale: (p[i] * scale).astype(np.float32), what)
    warnings += _fill_gaps(signal, what)
    anns, ann_warn = read_annotations(folder, rec_name, what)
    meta = _parse_comments(list(header.comments or []))
    meta["source_format"] = "WFDB"
    meta["segments"] = len(seg_names)
    rec = Record(signal=signal, fs=fs, lead_names=leads, name=rec_name, units=("mV",) * signal.shape[0],
                 metadata=meta, annotations=anns, warnings=tuple(warnings + ann_warn), aux=tuple(aux))
    return finish(rec, what, units_from_header=True)


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
    with tempfile.TemporaryDirectory(prefix="ecg_export_") as tmp:
        anns = {} if annotation is None else {annotation.extension: annotation}
        header = write_wfdb(record, tmp, annotations=anns)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                if f.stem == header.stem:
                    zf.write(f, arcname=f.name)
    return buf.getvalue()
