"""CSV/TSV, NumPy and EDF readers: good files and every bad-input case, with clinician-readable messages."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ecg_core.data import demo_record
from ecg_core.errors import FileTooLargeError, RecordFormatError, RecordValueError, SignalQualityWarning
from ecg_core.io import load_record

FS = 250.0


def _csv(tmp_path, text, name="x.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _table(n=1500, leads=("II", "V1"), time=True, scale=1.0, fs=FS):
    rec = demo_record(duration_s=n / fs, fs=fs)
    cols = [rec.signal[rec.lead_names.index(lead)] * scale for lead in leads]
    head = (["time"] if time else []) + list(leads)
    rows = [",".join(head)]
    for i in range(len(cols[0])):
        vals = ([f"{i / fs:.4f}"] if time else []) + [f"{c[i]:.4f}" for c in cols]
        rows.append(",".join(vals))
    return "\n".join(rows) + "\n"


def test_csv_with_time_column_gives_fs(tmp_path, demo_csv):
    rec = load_record(demo_csv)
    assert rec.fs == pytest.approx(250.0)
    assert rec.lead_names == ("II", "V1")
    assert rec.n_samples == 1500


def test_tsv_and_semicolon_are_sniffed(tmp_path):
    text = _table()
    rec = load_record(_csv(tmp_path, text.replace(",", "\t"), "x.tsv"))
    assert rec.n_leads == 2
    rec = load_record(_csv(tmp_path, text.replace(",", ";"), "y.csv"))
    assert rec.n_leads == 2


def test_physionet_style_export_with_units_row(tmp_path):
    body = _table(time=False).splitlines()[1:]
    text = "'sample #','MLII','V5'\n'(mV)','(mV)','(mV)'\n" + "\n".join(f"{i},{r}" for i, r in enumerate(body))
    rec = load_record(_csv(tmp_path, text), fs=360)
    assert rec.lead_names == ("MLII", "V5") and rec.fs == 360


def test_csv_without_fs_asks_for_it(tmp_path):
    with pytest.raises(RecordValueError, match="no sampling rate"):
        load_record(_csv(tmp_path, _table(time=False)))


def test_csv_fs_given(tmp_path):
    rec = load_record(_csv(tmp_path, _table(time=False)), fs=FS)
    assert rec.fs == FS


def test_csv_text_cell_names_row_and_column(tmp_path):
    lines = _table().splitlines()
    parts = lines[10].split(",")
    parts[2] = "abc"
    lines[10] = ",".join(parts)
    with pytest.raises(RecordFormatError, match=r"column 'V1' holds text .*row 11: 'abc'"):
        load_record(_csv(tmp_path, "\n".join(lines)))


def test_csv_nan_is_refused_with_location(tmp_path):
    lines = _table().splitlines()
    parts = lines[400].split(",")
    parts[1] = "NaN"
    lines[400] = ",".join(parts)
    with pytest.raises(RecordValueError, match=r"1 samples are missing .*lead II at 1\.60 s"):
        load_record(_csv(tmp_path, "\n".join(lines)))


def test_csv_ragged_rows(tmp_path):
    lines = _table().splitlines()
    lines[20] += ",0.1"
    with pytest.raises(RecordFormatError, match="row 21 has 4 values but the header has 3"):
        load_record(_csv(tmp_path, "\n".join(lines)))


def test_csv_no_rows(tmp_path):
    with pytest.raises(RecordFormatError, match="no rows"):
        load_record(_csv(tmp_path, "time,II,V1\n"))


def test_csv_empty_file(tmp_path):
    with pytest.raises(RecordFormatError, match="empty"):
        load_record(_csv(tmp_path, ""))


def test_csv_one_lead_is_fine(tmp_path):
    rec = load_record(_csv(tmp_path, _table(leads=("II",))))
    assert rec.n_leads == 1 and rec.lead_names == ("II",)


def test_csv_without_header_is_explained(tmp_path):
    body = "\n".join(_table(time=False).splitlines()[1:])
    with pytest.raises(RecordFormatError, match="first row must name the leads"):
        load_record(_csv(tmp_path, body), fs=FS)


@pytest.mark.parametrize("fs, msg", [(0, "must be positive"), (-5, "must be positive"),
                                     (20_000, "not plausible")])
def test_absurd_sampling_rates(tmp_path, fs, msg):
    with pytest.raises(RecordValueError, match=msg):
        load_record(_csv(tmp_path, _table(time=False)), fs=fs)


def test_time_column_implying_absurd_rate(tmp_path):
    text = _table().replace("time,", "time_ms,")  # seconds read as milliseconds: 250 kHz
    with pytest.raises(RecordValueError, match="not plausible"):
        load_record(_csv(tmp_path, text))


def test_record_shorter_than_two_seconds(tmp_path):
    with pytest.raises(RecordValueError, match=r"lasts 1\.20 s .* at least 2 s"):
        load_record(_csv(tmp_path, _table(n=300)))


def test_microvolts_given_as_millivolts(tmp_path):
    p = _csv(tmp_path, _table(scale=1000.0))
    with pytest.raises(RecordValueError, match="look like microvolts"):
        load_record(p)
    rec = load_record(p, units="uV")
    assert 0.5 < np.ptp(rec.signal[0]) < 5


def test_values_too_large_even_in_microvolts_get_advice_that_is_not_repeated(tmp_path):
    p = _csv(tmp_path, _table(scale=1e9))  # 1e9 "mV": was told "choose 'uV'" again once uV was chosen
    for units in (None, "uV"):
        with pytest.raises(RecordValueError, match="not an ECG in mV, uV or V") as exc:
            load_record(p, units=units)
        assert "choose 'uV'" not in str(exc.value)
    with pytest.raises(RecordValueError, match=r"even read in uV"):
        load_record(p, units="uV")


def test_european_export_with_decimal_commas_and_semicolons(tmp_path):
    rec = demo_record(duration_s=6.0, fs=250.0)
    t = np.arange(rec.n_samples) / rec.fs
    rows = ["time;II;V1"] + [f"{a:.3f};{b:.6f};{c:.6f}".replace(".", ",")
                             for a, b, c in zip(t, rec.signal[1], rec.signal[6])]
    back = load_record(_csv(tmp_path, "\n".join(rows) + "\n"))  # was "holds text ... '0,000000'"
    assert back.fs == 250.0 and back.lead_names == ("II", "V1")
    assert np.max(np.abs(back.signal - rec.signal[[1, 6]])) < 1e-5
    cells = rows[5].split(";")
    rows[5] = ";".join([cells[0], cells[1].replace(",", "."), cells[2]])  # one '.' among decimal commas
    with pytest.raises(RecordFormatError, match="decimal mark"):
        load_record(_csv(tmp_path, "\n".join(rows) + "\n"))


def test_one_flat_lead_is_a_warning(tmp_path):
    lines = _table().splitlines()
    out = [lines[0]] + [",".join(r.split(",")[:2] + ["0.0"]) for r in lines[1:]]
    with pytest.warns(SignalQualityWarning, match="V1 are flat"):
        rec = load_record(_csv(tmp_path, "\n".join(out)))
    assert any("V1 are flat" in w for w in rec.warnings)


def test_all_leads_flat_is_an_error(tmp_path):
    text = "time,II,V1\n" + "\n".join(f"{i / FS},0,0" for i in range(1000))
    with pytest.raises(RecordValueError, match="every lead is flat"):
        load_record(_csv(tmp_path, text))


def test_saturated_lead_warns_and_all_saturated_fails(tmp_path):
    rec = demo_record(duration_s=6.0, fs=FS)
    sat = np.clip(rec.signal[1], -0.05, 0.05)
    lines = ["time,II,V1"] + [f"{i / FS},{a:.4f},{b:.4f}" for i, (a, b) in enumerate(zip(sat, rec.signal[6]))]
    with pytest.warns(SignalQualityWarning, match="saturated"):
        r = load_record(_csv(tmp_path, "\n".join(lines)))
    assert any("II are saturated" in w for w in r.warnings)
    lines = ["time,II"] + [f"{i / FS},{a:.4f}" for i, a in enumerate(sat)]
    with pytest.raises(RecordValueError, match="flat or saturated"):
        load_record(_csv(tmp_path, "\n".join(lines), "b.csv"))


def test_npy_both_orientations_and_npz_metadata(tmp_path):
    rec = demo_record(duration_s=5.0, fs=500.0)
    np.save(tmp_path / "a.npy", rec.signal)
    np.save(tmp_path / "b.npy", rec.signal.T)
    a = load_record(tmp_path / "a.npy", fs=500)
    b = load_record(tmp_path / "b.npy", fs=500)
    assert a.signal.shape == b.signal.shape == (12, 2500)
    assert a.lead_names[6] == "V1"
    np.savez(tmp_path / "c.npz", signal=rec.signal[:2], fs=500.0, lead_names=np.array(["II", "V5"]), units="uV")
    with pytest.raises(RecordValueError, match="flat"):
        load_record(tmp_path / "c.npz")  # mV values declared as uV: 1000x too small, reads as flat
    np.savez(tmp_path / "d.npz", signal=rec.signal[:2] * 1000, fs=500.0, lead_names=np.array(["II", "V5"]),
             units="uV")
    c = load_record(tmp_path / "d.npz")
    assert c.lead_names == ("II", "V5") and c.fs == 500
    assert np.allclose(c.signal, rec.signal[:2], atol=1e-4)


def test_npy_refuses_pickles_and_strings(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(RecordFormatError, match="not a readable NumPy file"):
        load_record(tmp_path / "o.npy", fs=250)
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(RecordFormatError, match="not real numbers"):
        load_record(tmp_path / "s.npy", fs=250)


def test_npy_without_fs(tmp_path):
    np.save(tmp_path / "a.npy", demo_record().signal)
    with pytest.raises(RecordValueError, match="no sampling rate"):
        load_record(tmp_path / "a.npy")


def test_edf_round_trip_in_microvolts(tmp_path):
    import edfio

    rec = demo_record(duration_s=8.0, fs=500.0)
    sigs = [edfio.EdfSignal(rec.signal[i].astype(np.float64) * 1000, sampling_frequency=500, label=f"ECG {n}",
                            physical_dimension="uV", physical_range=(-5000, 5000))
            for i, n in enumerate(("I", "II", "V1"))]
    edfio.Edf(sigs).write(tmp_path / "r.edf")
    back = load_record(tmp_path / "r.edf")
    assert back.lead_names == ("I", "II", "V1") and back.fs == 500
    assert np.max(np.abs(back.signal[:2] - rec.signal[:2])) < 0.01


def test_edf_keeps_non_ecg_channels_aside_and_reads_patient_fields(tmp_path):
    import datetime

    import edfio

    rec = demo_record(duration_s=8.0, fs=500.0)
    sigs = [edfio.EdfSignal(rec.signal[1].astype(np.float64), sampling_frequency=500, label="ECG II",
                            physical_dimension="mV", physical_range=(-5, 5)),
            edfio.EdfSignal(np.linspace(36.0, 37.0, 200), sampling_frequency=25, label="Temp rectal",
                            physical_dimension="degC", physical_range=(30, 45)),
            edfio.EdfSignal(np.sin(np.arange(800) / 20), sampling_frequency=100, label="Resp chest",
                            physical_dimension="mV", physical_range=(-2, 2))]
    patient = edfio.Patient(code="P1", sex="F", birthdate=datetime.date(1950, 6, 2), name="X")
    edfio.Edf(sigs, patient=patient, recording=edfio.Recording(startdate=datetime.date(2020, 6, 1))
              ).write(tmp_path / "icu.edf")
    back = load_record(tmp_path / "icu.edf")
    assert back.lead_names == ("II",) and back.fs == 500
    assert [(a.name, a.unit, a.fs) for a in back.aux] == [("Temp rectal", "degC", 25.0), ("Resp chest", "mV", 100.0)]
    assert abs(float(back.aux[0].signal[-1]) - 37.0) < 0.01
    assert back.metadata["sex"] == "F" and back.metadata["age"] == 69  # the day before the 70th birthday
    assert not back.warnings


def test_not_an_edf(tmp_path):
    (tmp_path / "bad.edf").write_bytes(b"0       garbage" * 20)
    with pytest.raises(RecordFormatError, match="not a readable EDF"):
        load_record(tmp_path / "bad.edf")


def test_unknown_extension(tmp_path):
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(RecordFormatError, match="not supported"):
        load_record(tmp_path / "x.docx")


def test_size_limit_is_configurable(tmp_path, demo_csv, monkeypatch):
    monkeypatch.setenv("ECG_MAX_FILE_MB", "0.01")
    with pytest.raises(FileTooLargeError, match="over the 0 MB limit|over the"):
        load_record(demo_csv)
    with pytest.raises(FileTooLargeError):
        load_record(_Upload("demo.csv", demo_csv.read_bytes()))


class _Upload(io.BytesIO):
    """What Streamlit's UploadedFile offers: a name and the bytes."""

    def __init__(self, name, data):
        super().__init__(data)
        self.name = name


def test_uploaded_objects_including_a_wfdb_set(mitdb, demo_csv):
    rec = load_record(_Upload("demo.csv", demo_csv.read_bytes()))
    assert rec.n_leads == 2
    files = [_Upload(f"101.{e}", (mitdb / f"101.{e}").read_bytes()) for e in ("dat", "atr", "hea")]
    rec = load_record(files)
    assert rec.name == "101" and len(rec.annotations["atr"].beats()) == 1865


def test_uploaded_header_without_dat(mitdb):
    with pytest.raises(RecordFormatError, match="101.dat named in the header is missing"):
        load_record([_Upload("101.hea", (mitdb / "101.hea").read_bytes())])
