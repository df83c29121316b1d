"""Conformance with wfdb-python on its own sample data (``$ECG_DATA_DIR/wfdb-samples``).

Every header that ``wfdb.rdrecord`` reads is read by ``load_record`` with the same samples (ECG leads in
mV, other channels kept aside in their units, max |difference| <= 1e-6) or refused with a sentence naming
the reason; headers wfdb cannot read are refused too. The expected refusals are listed here one by one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecg_core.errors import ECGError
from ecg_core.io import load_record
from ecg_core.io.wfdb_io import read_wfdb_channels
from ecg_core.record import canonical_lead_name
from tests.conftest import _db

# header -> a phrase of the sentence it is refused with
REFUSED = {
    "1003.hea": "data file 1003.dat named in the header is missing",
    "12726.hea": "data file 12726.dat named in the header is missing",
    "drive02.hea": "drive02.dat named in the header is missing",
    "drive02-no-len.hea": "drive02.dat named in the header is missing",
    "n16.hea": "n16.dat named in the header is missing",
    "wave_4.hea": "wave_4.dat named in the header is missing",
    "n8_evoked_raw_95_F1_R9.hea": "signal lines do not describe",
    "binformats.hea": "which no ECG reaches",  # format test ramps spanning each format's whole range
    "flacformats.hea": "which no ECG reaches",
    "flac_3_constant.hea": "every lead is flat",
    "multi-segment/p000878/3269321_layout.hea": "layout header of a multi-segment record",
    "multi-segment/s25047/3234460_layout.hea": "layout header of a multi-segment record",
    "multi-segment/p000878/p000878-2137-10-26-16-57.hea": "longer than the 48 h",
    "multi-segment/p000878/3269321_0001.hea": "holds no ECG lead",
    "multi-segment/s25047/s25047-2704-05-04-10-44n.hea": "holds no ECG lead",
    **{f"multi-segment/s25047/3234460_{i:04d}.hea": "at least 2 s are needed" for i in (2, 5, 7, 9, 11, 13, 14)},
}


def _headers():
    root = _db("wfdb-samples")
    return sorted(str(h.relative_to(root)) for h in root.rglob("*.hea")) if root else []


def _reference(path: Path):
    try:
        return wfdb.rdrecord(str(path.with_suffix("")), smooth_frames=False)
    except Exception:
        return None


def _close(a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    ok = np.isfinite(b)
    return bool(np.array_equal(np.isfinite(a), ok) and np.all(np.abs(a[ok] - b[ok]) <= 1e-6 * scale))


@pytest.mark.parametrize("rel", _headers() or ["(none)"])
def test_every_sample_header_reads_as_wfdb_or_is_refused_by_name(rel, wfdb_samples):
    root = wfdb_samples
    path = root / rel
    ref = _reference(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rec = load_record(path)
        except ECGError as exc:
            assert rel in REFUSED, f"{rel} refused unexpectedly: {exc}"
            assert REFUSED[rel] in str(exc), str(exc)
            assert str(exc).startswith(path.name)
            if ref is not None and getattr(ref, "n_seg", None) is None and rel not in (
                    "multi-segment/p000878/3269321_0001.hea", "multi-segment/s25047/s25047-2704-05-04-10-44n.hea"):
                # wfdb decodes it: our decoding layer must agree sample for sample before the ECG checks refuse
                if "no-len" not in rel and "layout" not in rel and "at least 2 s" not in REFUSED[rel]:
                    physical = read_wfdb_channels(path)
                    for ours, theirs in zip(physical, ref.e_p_signal):
                        assert _close(ours, theirs, max(1.0, float(np.nanmax(np.abs(theirs))))), rel
            return
    assert rel not in REFUSED, f"{rel} was expected to be refused ({REFUSED[rel]})"
    assert ref is not None
    names = [canonical_lead_name(n) for n in ref.sig_name]
    by_name = dict(zip(names, ref.e_p_signal))
    spf = dict(zip(names, ref.samps_per_frame or [1] * len(names)))
    units = dict(zip(names, ref.units))
    base = min(spf[n] for n in rec.lead_names)
    for j, name in enumerate(rec.lead_names):
        theirs = np.asarray(by_name[name], np.float64)
        if spf[name] != base:  # averaged to the slowest lead's rate, as wfdb's smooth_frames does
            r = spf[name] // base
            theirs = theirs[: len(theirs) // r * r].reshape(-1, r).mean(axis=1)
        factor = {"mV": 1.0, "uV": 1e-3}[units[name]]
        theirs = theirs * factor
        ok = np.isfinite(theirs)
        assert np.max(np.abs(rec.signal[j][ok] - theirs[ok])) <= 1e-6 * max(1.0, np.abs(theirs[ok]).max()), name
    for aux in rec.aux:
        theirs = np.asarray(by_name[aux.name], np.float64)
        assert _close(aux.signal, theirs, max(1.0, float(np.nanmax(np.abs(theirs))) if np.isfinite(theirs).any()
                                              else 1.0)), aux.name
    assert len(rec.lead_names) + len(rec.aux) == len(ref.sig_name)
    assert not any("checksum" in w for w in rec.warnings), rec.warnings


def test_non_ecg_channels_are_kept_aside_with_their_units(wfdb_samples):
    root = wfdb_samples
    rec = load_record(root / "03700181.hea")
    assert rec.lead_names == ("MCL1",)
    assert [(a.name, a.unit) for a in rec.aux] == [("ABP", "mmHg"), ("RESP", "mV")]
    assert rec.fs == 500.0 and rec.aux[0].fs == 125.0
    rec = load_record(root / "a103l.hea")
    assert rec.lead_names == ("II", "V") and [(a.name, a.unit) for a in rec.aux] == [("PLETH", "NU")]
    rec = load_record(root / "test_generator_2.hea")  # a Latin-1 degree sign, not a replacement character
    units = {a.name: a.unit for a in rec.aux}
    assert units["sine 15 Hz"] == "\u00b0" and rec.fs == 200.0
    edf = load_record(root / "test_generator_2.edf")  # the same file as EDF: '°' from the raw header bytes
    assert {a.name: a.unit for a in edf.aux}["sine 15 Hz"] == "\u00b0"
    assert "ECG" in edf.lead_names and "sine 15 Hz" not in edf.lead_names
    i = edf.lead_names.index("ECG")
    assert np.max(np.abs(edf.signal[i] - rec.signal[rec.lead_names.index("ECG")])) < 1e-3


def test_multi_segment_records_fixed_and_variable_layout(wfdb_samples):
    root = wfdb_samples
    rec = load_record(root / "multi-segment/fixed1/v102s.hea")
    assert rec.n_samples == 225000 and rec.lead_names == ("II", "V")
    rec = load_record(root / "multi-segment/s25047/s25047-2704-05-04-10-44.hea")
    assert rec.n_samples == 543240 and [a.name for a in rec.aux] == ["ABP"]


def test_ptb_and_one_line_metadata(wfdb_samples):
    root = wfdb_samples
    rec = load_record(root / "s0010_re.hea")
    assert rec.metadata["sex"] == "F" and rec.metadata["age"] == 81
    rec = load_record(root / "test01_00s.hea")
    assert rec.metadata["sex"] == "M" and rec.metadata["age"] == 25


def test_headers_without_length_and_skewed_signals_read_like_the_originals(wfdb_samples):
    root = wfdb_samples
    a, b = load_record(root / "100-no-len.hea"), load_record(root / "100.hea")
    assert np.array_equal(a.signal, b.signal)
    skew = load_record(root / "100skew.hea")
    assert not skew.warnings and np.array_equal(skew.signal[0], b.signal[0])
    assert np.array_equal(skew.signal[1, :-3], b.signal[1, 3:])


def test_multi_segment_record_uploaded_as_a_zip_and_as_files(tmp_path, wfdb_samples):
    import zipfile

    from ecg_core.io.load import Upload

    folder = wfdb_samples / "multi-segment/fixed1"
    buf = tmp_path / "v102s.zip"
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, arcname=f"v102s/{f.name}")
    ref = load_record(folder / "v102s.hea")
    assert np.array_equal(load_record(buf).signal, ref.signal)
    uploads = [Upload(f.name, f.read_bytes()) for f in sorted(folder.iterdir())]
    assert np.array_equal(load_record(uploads).signal, ref.signal)
