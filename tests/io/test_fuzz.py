"""Fuzzing every reader (CI-sized): generated and mutated files end in a valid record or a project error.

The long run is ``python bench/fuzz.py``; the defects it found are pinned below as regression cases.
"""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecg_core.errors import ECGError, FileTooLargeError, RecordFormatError, RecordValueError
from ecg_core.io import Upload as _Upload
from ecg_core.io import load_record
from ecg_core.io.image_io import read_image
from ecg_core.testing.fuzzing import FORMATS, FuzzDefect, fuzz, mutate, read_outcome, seed_inputs

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def seeds(request):
    """Seed files written from 8 s of MIT-BIH record 119 (two leads) when the data are there, else the demo."""
    import os
    from pathlib import Path

    root = os.environ.get("ECG_DATA_DIR")
    if root and (Path(root) / "mitdb" / "119.hea").exists():
        rec = load_record(Path(root) / "mitdb" / "119.hea").crop(60, 68)
        return seed_inputs(rec.replace(annotations={})), rec.fs
    return seed_inputs(), 250.0


def test_every_seed_reads(seeds):
    seeds, fs = seeds
    assert set(seeds) == set(FORMATS)
    for fmt, sets in seeds.items():
        for files in sets:
            assert read_outcome(files, fmt, fs) == "ok", (fmt, [n for n, _ in files])


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_files_read_or_fail_with_a_message(seeds, fmt):
    seeds, fs = seeds

    @SETTINGS
    @given(st.integers(0, 2**32 - 1), st.integers(0, 7))
    def run(seed, which):
        base = seeds[fmt][which % len(seeds[fmt])]
        files = mutate(base, np.random.default_rng(seed))
        read_outcome(files, fmt, fs)  # FuzzDefect (a failed test) for anything but a record or a project error

    run()


_EXT = st.sampled_from([".hea", ".dat", ".csv", ".txt", ".edf", ".npy", ".npz", ".zip", ".png", ".jpg", ".pdf"])


@SETTINGS
@given(_EXT, st.binary(max_size=2048))
def test_random_bytes_under_any_name(ext, data):
    fmt = "image" if ext in (".png", ".jpg") else "pdf" if ext == ".pdf" else "wfdb"
    read_outcome([(f"x{ext}", data)], fmt)


_cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda v: f"{v:g}"),
                  st.integers(-10**12, 10**12).map(str), st.sampled_from(["", "x", "nan", "1e999", " ", "-"]))


@SETTINGS
@given(st.lists(st.text(alphabet="abcIV1 ,;\t", max_size=8), min_size=1, max_size=4),
       st.lists(st.lists(_cell, min_size=1, max_size=5), min_size=0, max_size=60),
       st.sampled_from([",", ";", "\t"]))
def test_generated_csv(header, rows, sep):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)
    read_outcome([("gen.csv", text.encode())], "csv")


_num = st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(["nan", "-1e308", "", "1e999", "0", "x"]),
                 st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:g}"))


@SETTINGS
@given(_num, _num, _num, st.lists(st.tuples(st.sampled_from(["16", "212", "8", "80", "999", ""]), _num, _num),
                                  max_size=4), st.binary(max_size=4000))
def test_generated_wfdb_headers(n_sig, fs, length, lines, data):
    head = f"gen {n_sig} {fs} {length}\n" + "".join(f"gen.dat {f} {g}/mV 12 0 {b} 0 0 II\n" for f, g, b in lines)
    read_outcome([("gen.hea", head.encode()), ("gen.dat", data)], "wfdb")


def test_the_ci_run_counts_every_outcome():
    report = fuzz(40, seed=3, formats=("numpy", "image")).as_dict()
    for fmt in ("numpy", "image"):
        r = report[fmt]
        assert r["inputs"] == 40 and r["defects"] == 0
        assert r["outcomes"]["ok"] >= 2 and sum(v for k, v in r["outcomes"].items() if k.startswith("error:")) >= 10


def test_read_outcome_flags_a_reader_that_breaks_the_contract(monkeypatch):
    import ecg_core.io.load as load

    def broken(*a, **k):
        raise IndexError("deep inside a parser")

    monkeypatch.setattr(load, "_read_path", broken)
    with pytest.raises(FuzzDefect, match="IndexError"):
        read_outcome([("x.csv", b"II\n1\n2\n")], "csv")


# ---- defects the fuzzer found (bench/fuzz.py), pinned


def test_zip_member_with_bad_crc_is_a_format_error(seeds):
    name, data = seeds[0]["zip"][1][0]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        member = zf.infolist()[0]
        start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    broken = bytearray(data)
    broken[start + 10] ^= 0xFF  # a byte of the compressed member
    with pytest.raises(RecordFormatError, match="damaged or cannot be unpacked|not a readable"):
        load_record(_Upload(name, bytes(broken)))


def test_npy_header_declaring_a_huge_array_is_refused_before_allocating():
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 100), np.float32))
    data = buf.getvalue().replace(b"(2, 100)", b"(2, 10000000000)".ljust(len(b"(2, 100)")))
    # the header keeps its padded length: rewrite it with the same size
    head_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + head_len].decode("latin1").replace("(2, 100)", "(2, 900000000000)")
    header = header[:head_len - 1].ljust(head_len - 1) + "\n"
    data = data[:10] + header.encode("latin1") + data[10 + head_len:]
    with pytest.raises(RecordFormatError, match="declares an array of shape"):
        load_record(_Upload("big.npy", data), fs=250.0)


def test_npz_that_unpacks_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setenv("ECG_MAX_UNPACKED_MB", "1")
    buf = io.BytesIO()
    np.savez_compressed(buf, signal=np.zeros((2, 400_000), np.float32))  # 3.2 MB of zeros, a few KB packed
    with pytest.raises(FileTooLargeError, match="unpack"):
        load_record(_Upload("bomb.npz", buf.getvalue()), fs=250.0)


@pytest.mark.parametrize("header", [b"rec 99999999999 250 1500\nrec.dat 16 1000(0)/mV 16 0 0 0 0 II\n",
                                    b"rec 3 250 1500\n", b"rec 3 -1e308",
                                    b"rec 2 250 1500\nrec.dat 16 200/mV 16 0 0 0 0 II\n"])
def test_wfdb_header_whose_signal_lines_do_not_match_its_count(header):
    with pytest.raises(RecordFormatError):
        load_record([_Upload("rec.hea", header), _Upload("rec.dat", b"\x00" * 6000)])


def test_edf_cut_inside_its_header_is_a_format_error(seeds):
    data = seeds[0]["edf"][0][0][1]
    header_bytes = int(data[184:192])  # 256 + 256 per signal
    with pytest.raises(RecordFormatError, match="not a readable EDF"):  # numpy's memmap: negative length
        load_record(_Upload("rec.edf", data[: header_bytes - 20]))


def test_pdf_first_page_is_read_and_a_damaged_one_named(seeds):
    pdf = seeds[0]["pdf"][0][0][1]
    img = read_image(pdf, "ecg.pdf")
    assert img.ndim == 3 and min(img.shape[:2]) > 200
    with pytest.raises(RecordFormatError, match="ecg.pdf"):
        read_image(pdf[: len(pdf) // 3], "ecg.pdf")


def test_project_errors_name_the_file():
    for files, fmt in (([("a.csv", b"\xff\xfe\x00")], "csv"), ([("b.png", b"\x89PNG\r\n")], "image")):
        with pytest.raises(ECGError, match=files[0][0]):
            if fmt == "image":
                read_image(files[0][1], files[0][0])
            else:
                load_record(_Upload(*files[0]), fs=250.0)


def test_csv_times_printed_to_the_millisecond_keep_their_rate():
    """At 360 Hz, times printed in ms step 2.8 / 2.7 ms: rounding, not missing samples (found by fuzzing
    a real record's CSV seed); a dropped sample is still refused."""
    t = np.arange(1440) / 360
    x = np.sin(2 * np.pi * 1.2 * t)
    rows = "\n".join(f"{a:.4f},{b:.4f}" for a, b in zip(t, x))
    rec = load_record(_Upload("ms.csv", f"time,II\n{rows}\n".encode()))
    assert rec.fs == pytest.approx(360, rel=1e-3) and rec.n_samples == 1440
    gap = "\n".join(f"{a:.4f},{b:.4f}" for k, (a, b) in enumerate(zip(t, x)) if k != 700)
    with pytest.raises(RecordValueError, match="not evenly spaced"):
        load_record(_Upload("gap.csv", f"time,II\n{gap}\n".encode()))


def test_a_record_we_write_reads_back_whatever_its_checksums(mitdb, tmp_path):
    """wfdb-python writes 16-bit checksums unsigned (PhysioNet's files: signed); both must read back.
    The fuzzer's first real-record seed (119, 60-68 s) has a checksum above 32767 in both leads."""
    from ecg_core.io import write_wfdb

    rec = load_record(mitdb / "119.hea").crop(60, 68).replace(annotations={}, name="r119")
    head = write_wfdb(rec, tmp_path)
    sums = [int(line.split()[6]) for line in head.read_text().splitlines()[1:3]]
    assert max(sums) > 32767
    back = load_record(head)
    assert np.abs(back.signal - rec.signal).max() < 2e-3


def test_zip_needing_a_newer_zip_version_is_a_format_error(seeds):
    """Found by bench/fuzz.py: the central directory's 'version needed' byte made ZipFile raise
    NotImplementedError."""
    name, data = seeds[0]["zip"][1][0]
    data = bytearray(data)
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 6] = 127  # version needed to extract: 12.7
    with pytest.raises(RecordFormatError, match="not a readable zip|cannot be unpacked"):
        load_record(_Upload(name, bytes(data)))


def test_record_longer_than_the_limit_is_refused_from_its_header(monkeypatch, tmp_path):
    """A 30-minute record under a 0.25 h limit: refused by the header check, before any sample is read."""
    monkeypatch.setenv("ECG_MAX_HOURS", "0.25")
    head = b"long 1 360 648000\nlong.dat 16 200/mV 16 0 0 0 0 II\n"
    with pytest.raises(RecordValueError, match=r"lasts 0.5 h, longer than the 0.25 h"):
        load_record([_Upload("long.hea", head), _Upload("long.dat", b"")])
    x = np.sin(np.arange(400 * 1000) / 50.0).astype(np.float32)  # 1000 s at 400 Hz, as NumPy
    buf = io.BytesIO()
    np.save(buf, x)
    monkeypatch.setenv("ECG_MAX_HOURS", str(900 / 3600))
    with pytest.raises(RecordValueError, match="ECG_MAX_HOURS"):
        load_record(_Upload("long.npy", buf.getvalue()), fs=400.0)


def test_reading_logs_no_file_names_contents_or_patient_metadata(tmp_path, caplog):
    import logging

    from ecg_core.data import demo_record
    from ecg_core.io import write_wfdb

    rec = demo_record(duration_s=6.0, fs=250.0).replace(name="Jane_Doe_1961", metadata={"age": 63, "sex": "F"})
    head = write_wfdb(rec, tmp_path)
    with open(head.with_suffix(".dat"), "ab") as f:
        f.write(b"\0" * 64)  # trailing bytes: the reader logs this case
    csv_text = "time,II\n" + "\n".join(f"{i / 250:.4f},{0.1234 + 0.5 * np.sin(i / 9):.4f}" for i in range(1500))
    # ecg_core at DEBUG, everything else at INFO (Streamlit's default; fsspec, under wfdb, names the files it
    # opens at DEBUG, which app.py silences)
    with caplog.at_level(logging.INFO), caplog.at_level(logging.DEBUG, logger="ecg_core"):
        load_record(head)
        load_record(_Upload("Jane_Doe_1961.csv", csv_text.encode()))
        with pytest.raises(ECGError):
            load_record(_Upload("Jane_Doe_1961.csv", b"time,II\n0,1\n0.004,oops\n"))
    assert any("bytes after the samples" in r.getMessage() for r in caplog.records)
    text = caplog.text
    assert "Jane" not in text and "1961" not in text and "0.1234" not in text and "<age>" not in text
