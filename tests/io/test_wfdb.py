"""WFDB reading, writing and every way a WFDB file set can lie or be broken."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ecg_core.errors import RecordFormatError
from ecg_core.io import load_record, read_wfdb, write_wfdb
from ecg_core.record import Annotation


def test_mitdb_100_reads_format_212_in_mv(mitdb):
    rec = load_record(mitdb / "100.hea")
    assert rec.signal.shape == (2, 650000)
    assert rec.fs == 360.0
    assert rec.lead_names == ("MLII", "V5")
    assert rec.signal.dtype == np.float32
    # first sample of 100 is digital 995 with baseline 1024, gain 200: -0.145 mV
    assert rec.signal[0, 0] == pytest.approx(-0.145, abs=1e-6)
    assert rec.metadata["age"] == 69 and rec.metadata["sex"] == "M"
    beats = rec.annotations["atr"].beats()
    assert len(beats) == 2273  # MIT-BIH record 100: 2273 beats


@pytest.mark.parametrize("db, name", [("mitdb", "203"), ("ludb", "1")])
def test_annotations_are_what_wfdb_rdann_reads(db, name, request):
    """Annotations are read with wfdb's own steps minus rdann's header look-up (``wfdb_io._rdann``): every file
    of a MIT-BIH record with rhythm notes and of a 12-file LUDB record must match ``wfdb.rdann`` exactly."""
    import wfdb

    folder = request.getfixturevalue(db)
    rec = load_record(folder / f"{name}.hea")
    assert len(rec.annotations) == (1 if db == "mitdb" else 12)
    for ext, ann in rec.annotations.items():
        ref = wfdb.rdann(str(folder / name), ext)
        assert ann.sample_idx.tolist() == ref.sample.tolist() and ann.symbol == tuple(ref.symbol)
        assert ann.aux_note == (tuple(ref.aux_note) if any(ref.aux_note) else None)
    if db == "mitdb":  # rhythm changes, atrial flutter among them
        assert any(a.startswith("(AFL") for a in rec.annotations["atr"].aux_note)


def test_ludb_reads_format_16_with_metadata_and_wave_annotations(ludb):
    rec = load_record(ludb / "1.hea")
    assert rec.signal.shape == (12, 5000) and rec.fs == 500.0
    assert rec.lead_names[:3] == ("I", "II", "III") and rec.lead_names[3] == "aVR"
    assert rec.metadata["age"] == 51 and rec.metadata["sex"] == "F"
    assert any("axis" in d.lower() for d in rec.metadata["diagnoses"])
    ii = rec.annotations["ii"]
    assert {"p", "N", "t", "(", ")"} <= set(ii.symbol)


@pytest.mark.parametrize("fmt", ["16", "212", "80"])
def test_write_then_read_round_trip(tmp_path, fmt):
    from ecg_core.data import demo_record

    rec = demo_record(duration_s=4.0, fs=500.0)
    header = write_wfdb(rec, tmp_path, fmt=fmt)
    back = read_wfdb(header)
    assert back.lead_names == rec.lead_names and back.fs == rec.fs
    tol = {"16": 2e-3, "212": 5e-3, "80": 0.05}[fmt]
    assert np.max(np.abs(back.signal - rec.signal)) < tol
    ann = back.annotations["atr"]
    assert list(ann.sample_idx) == list(rec.annotations["atr"].sample_idx)
    assert ann.symbol == rec.annotations["atr"].symbol
    assert back.metadata["age"] == 54


def _copy(mitdb, tmp_path, name="100"):
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb / f"{name}.{ext}", tmp_path / f"{name}.{ext}")
    return tmp_path / f"{name}.hea"


def test_truncated_dat_is_named(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    dat = tmp_path / "100.dat"
    dat.write_bytes(dat.read_bytes()[:500_000])
    with pytest.raises(RecordFormatError, match=r"100\.dat holds only about \d+.*truncated"):
        load_record(header)


def test_header_lying_about_length(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    header.write_text(header.read_text().replace("360 650000", "360 900000"))
    with pytest.raises(RecordFormatError, match="promises 900000 samples"):
        load_record(header)


def test_header_lying_about_format_fails_checksums(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    # 212 data read as format 8 (one byte a sample): the sizes fit, the checksums do not
    text = header.read_text().replace("100.dat 212", "100.dat 8").replace("360 650000", "360 975000")
    header.write_text(text)
    with pytest.raises(RecordFormatError, match="checksums"):
        load_record(header)


def test_header_with_invalid_gain(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    header.write_text(header.read_text().replace("212 200 11", "212 -5 11"))
    with pytest.raises(RecordFormatError, match="invalid gain|cannot be parsed"):
        load_record(header)


def test_header_with_gain_off_by_1000_is_caught_as_microvolts(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    header.write_text(header.read_text().replace("212 200 11", "212 0.2 11"))
    from ecg_core.errors import RecordValueError

    with pytest.raises(RecordValueError, match="microvolts"):
        load_record(header)


def test_missing_dat_is_named(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    (tmp_path / "100.dat").unlink()
    with pytest.raises(RecordFormatError, match="data file 100.dat named in the header is missing"):
        load_record(header)


def test_unreadable_annotation_is_a_warning_not_an_error(mitdb, tmp_path):
    header = _copy(mitdb, tmp_path)
    (tmp_path / "100.atr").write_bytes(b"\x01\x02garbage")
    rec = load_record(header)
    assert "atr" not in rec.annotations
    assert any("100.atr could not be read" in w for w in rec.warnings)


def test_annotation_beats_filter():
    ann = Annotation(np.array([1, 2, 3, 4]), ("N", "+", "V", "!"))
    assert ann.beats().symbol == ("N", "V")


def test_cinc2017_checksum_zero_means_not_given_and_a_real_one_still_counts(cinc2017, tmp_path):
    """Every CinC 2017 header carries checksum 0, a placeholder: the record reads as wfdb reads it, without a
    warning; the same header with a checksum that disagrees is refused as before."""
    import warnings

    import wfdb

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = load_record(cinc2017 / "A00001.hea")
    ref = wfdb.rdrecord(str(cinc2017 / "A00001"))
    assert rec.fs == 300 and ref.checksum == [0]
    np.testing.assert_allclose(rec.signal[0], ref.p_signal[:, 0], atol=1e-6)
    for ext in ("hea", "mat"):
        shutil.copy(cinc2017 / f"A00001.{ext}", tmp_path / f"A00001.{ext}")
    header = tmp_path / "A00001.hea"
    lines = header.read_text().splitlines()
    fields = lines[1].split()
    fields[6] = "1234"  # the checksum field of the signal line
    header.write_text("\n".join([lines[0], " ".join(fields), *lines[2:]]) + "\n")
    with pytest.raises(RecordFormatError, match="checksums"):
        load_record(header)
